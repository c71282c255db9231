#!/usr/bin/env node
// Runs the pnpm version pinned in package.json, installing the workspace's dependencies first when
// they are missing or stale. Needs only Node.js and npm: pnpm itself comes through npx if absent.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const pinned = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).packageManager.split("@")[1];
const windows = process.platform === "win32";

function environment() {
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };
  // Where Node's headers ship with the system, let node-gyp use them instead of downloading them.
  if (env.npm_config_nodedir === undefined && existsSync("/usr/include/node/node.h")) env.npm_config_nodedir = "/usr";
  return env;
}

function pnpmCommand() {
  const global = spawnSync(windows ? "pnpm.cmd" : "pnpm", ["--version"], { encoding: "utf8" });
  if (global.status === 0 && global.stdout.trim() === pinned) return [windows ? "pnpm.cmd" : "pnpm", []];
  return [windows ? "npx.cmd" : "npx", ["--yes", `pnpm@${pinned}`]];
}

/** Runs pnpm with `args` in the repository root; returns its exit code. */
export function pnpm(args) {
  const [command, prefix] = pnpmCommand();
  const result = spawnSync(command, [...prefix, ...args], { cwd: root, stdio: "inherit", env: environment(), shell: windows });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Installs dependencies unless node_modules already matches the lockfile. */
export function ensureInstalled() {
  const lockfile = join(root, "pnpm-lock.yaml");
  const installed = join(root, "node_modules", ".pnpm", "lock.yaml");
  const upToDate = existsSync(installed) && existsSync(lockfile) && readFileSync(installed, "utf8") === readFileSync(lockfile, "utf8");
  if (upToDate) return;
  console.error(`Installing dependencies with pnpm ${pinned} (the first run compiles better-sqlite3, about two minutes)...`);
  const status = pnpm(["install", "--frozen-lockfile"]);
  if (status !== 0) process.exit(status);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureInstalled();
  const args = process.argv.slice(2);
  process.exit(args.length === 0 ? 0 : pnpm(args));
}
