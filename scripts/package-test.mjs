#!/usr/bin/env node
// The packages as npm users get them: packs every public package, lints each tarball with publint,
// installs the tarballs with npm into a new application outside the workspace, type-checks and
// runs a typed producer + worker with plain node, runs `npx queue demo`, and tries a TypeScript
// handlers module. Exits 1 on the first failure; removes what it made either way.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { environment, pnpm, root } from "./pnpm.mjs";

const fixtures = join(root, "scripts", "package-test");
const work = mkdtempSync(join(tmpdir(), "queue-package-test-"));
const tarballs = join(work, "tarballs");
const app = join(work, "app");
const started = Date.now();

function step(title) {
  console.log(`--- ${title} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

/** Runs a command in the application; returns what it printed, or fails the test. */
function run(command, args, { cwd = app, expectCode = 0 } = {}) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...environment(), NO_COLOR: "1" } });
  if (result.error) throw result.error;
  if (result.status !== expectCode) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.status} (expected ${expectCode}):\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function publicPackages() {
  return readdirSync(join(root, "packages"))
    .map((name) => join(root, "packages", name))
    .filter((dir) => !JSON.parse(readFileSync(join(dir, "package.json"), "utf8")).private);
}

async function lintTarball(file) {
  const { publint } = await import("publint");
  const { formatMessage } = await import("publint/utils");
  const bytes = readFileSync(file);
  const { messages, pkg } = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    level: "suggestion",
    strict: true,
  });
  return messages.map((message) => `${pkg.name}: ${formatMessage(message, pkg) ?? message.code}`);
}

try {
  step(`Node.js ${process.version}: build and pack every public package`);
  if (pnpm(["run", "build"], { stdio: ["ignore", "ignore", "inherit"] }) !== 0) throw new Error("the build failed");
  // pnpm pack writes workspace:^ ranges as caret ranges of the versions it packs.
  for (const dir of publicPackages()) {
    if (pnpm(["--dir", dir, "pack", "--pack-destination", tarballs], { stdio: ["ignore", "ignore", "inherit"] }) !== 0)
      throw new Error(`packing ${dir} failed`);
  }
  const packed = readdirSync(tarballs).map((file) => join(tarballs, file));
  check(packed.length === publicPackages().length, `expected ${publicPackages().length} tarballs, got ${packed.length}`);

  step("publint on each tarball");
  const problems = (await Promise.all(packed.map(lintTarball))).flat();
  for (const problem of problems) console.log(`  ${problem}`);
  check(problems.length === 0, `publint reported ${problems.length} problem(s)`);
  for (const file of packed) {
    const listing = run("tar", ["-tzf", file], { cwd: work }).stdout;
    check(!/\.tsbuildinfo/.test(listing), `${file} ships a .tsbuildinfo build cache`);
    check(/package\/LICENSE/.test(listing) && /package\/README\.md/.test(listing), `${file} has no LICENSE or README.md`);
  }
  console.log(`  ${packed.length} tarballs, publint: no problems`);

  step("install the tarballs with npm into an application outside the workspace");
  run("mkdir", ["-p", app], { cwd: work });
  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "queue-package-test-app", private: true, type: "module" }, null, 2)}\n`,
  );
  for (const file of ["main.ts", "handlers.ts", "tsconfig.json"]) copyFileSync(join(fixtures, file), join(app, file));
  const typescript = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies.typescript;
  run("npm", [
    "install",
    "--no-audit",
    "--no-fund",
    ...packed,
    `typescript@${typescript}`,
    `@types/node@${process.versions.node.split(".")[0]}`,
  ]);

  step("type-check the typed producer and worker, then run it with plain node");
  run(join(app, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"]);
  const produced = JSON.parse(run(process.execPath, [join("dist", "main.js"), join(app, "main.db")]).stdout);
  const expected = { email: "completed", image: "completed", bytes: 256, invalid: "INVALID_ARGUMENT", deadLettered: [] };
  check(JSON.stringify(produced) === JSON.stringify(expected), `the program printed ${JSON.stringify(produced)}`);

  step("npx queue demo");
  const demo = run("npx", ["--no-install", "queue", "demo", "--tasks", "300", "--processes", "2", "--db", "demo/queue.db"]);
  check(/Try next:\n {2}npx queue stats --db "demo\/queue\.db"/.test(demo.stdout), `the demo suggests other commands:\n${demo.stdout}`);
  const stats = JSON.parse(run("npx", ["--no-install", "queue", "stats", "--db", "demo/queue.db", "--json"]).stdout);
  check(stats.depth.queued === 0 && stats.depth.leased === 0, `tasks left after the demo: ${JSON.stringify(stats.depth)}`);

  step("a TypeScript handlers module");
  run("npx", ["--no-install", "queue", "init", "--db", "h.db"]);
  run("npx", ["--no-install", "queue", "enqueue", "triple", '{"n":14}', "--db", "h.db"]);
  const stripsTypes = Boolean(process.features.typescript);
  const worked = run("npx", ["--no-install", "queue", "work", "--handlers", "./handlers.ts", "--until-empty", "--db", "h.db"], {
    expectCode: stripsTypes ? 0 : 2,
  });
  if (stripsTypes) {
    const shown = JSON.parse(run("npx", ["--no-install", "queue", "show", "1", "--db", "h.db", "--json"]).stdout);
    check(shown.task.result === 42, `the TypeScript handler's result: ${JSON.stringify(shown.task)}`);
  } else {
    check(/hint: Node\.js v\S+ cannot run TypeScript itself: install tsx/.test(worked.stderr), `no hint:\n${worked.stderr}`);
  }

  step(`passed on Node.js ${process.version}`);
} catch (error) {
  console.error(`package test failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
