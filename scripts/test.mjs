#!/usr/bin/env node
// The whole test suite: every package's tests through turbo (cached), then one summary line.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureInstalled, pnpm, root } from "./pnpm.mjs";

const projects = [
  ...readdirSync(join(root, "packages")).map((name) => join("packages", name)),
  "bench",
  "reliability",
  "conformance",
  join("docs", "examples"),
];
const reports = projects.map((project) => join(root, project, "test-results.json"));
// Count only this run's reports (turbo restores them from its cache for unchanged packages).
for (const report of reports) rmSync(report, { force: true });

ensureInstalled();
// Results cached under one Node.js version say nothing about another: the version is part of
// turbo's cache key (turbo.json's globalEnv).
process.env.QUEUE_TEST_NODE_VERSION = process.version;
const status = pnpm(["exec", "turbo", "run", "test", ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const report of reports) {
  if (!existsSync(report)) continue;
  const results = JSON.parse(readFileSync(report, "utf8"));
  passed += results.numPassedTests;
  failed += results.numFailedTests;
  skipped += results.numPendingTests + results.numTodoTests;
}
console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(status !== 0 || failed > 0 ? 1 : 0);
