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

/** The major version of the Node.js headers under `prefix`/include/node, if there are any. */
function headersMajor(prefix) {
  const file = join(prefix, "include", "node", "node_version.h");
  if (!existsSync(file)) return undefined;
  return readFileSync(file, "utf8").match(/#define NODE_MAJOR_VERSION (\d+)/)?.[1];
}

/**
 * Where node-gyp finds headers for the running Node.js without downloading them: beside the
 * binary (an official or npm-installed Node.js ships include/node), else the system's when their
 * version matches. Undefined when neither fits (node-gyp then downloads them).
 */
export function localNodeHeaders() {
  const major = process.versions.node.split(".")[0];
  return [dirname(dirname(process.execPath)), "/usr"].find((prefix) => headersMajor(prefix) === major);
}

/**
 * The environment for pnpm and npm: no telemetry, and Node.js headers that match the running
 * Node.js for native builds. A `nodedir` from npm's configuration (npm passes it on to scripts as
 * npm_config_nodedir) whose headers are another version's would build an addon this Node.js
 * cannot load, so it is replaced.
 */
export function environment() {
  const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" };
  const major = process.versions.node.split(".")[0];
  if (env.npm_config_nodedir !== undefined && headersMajor(env.npm_config_nodedir) === major) return env;
  const headers = localNodeHeaders();
  if (headers !== undefined) env.npm_config_nodedir = headers;
  else delete env.npm_config_nodedir;
  return env;
}

function pnpmCommand() {
  const global = spawnSync(windows ? "pnpm.cmd" : "pnpm", ["--version"], { encoding: "utf8" });
  if (global.status === 0 && global.stdout.trim() === pinned) return [windows ? "pnpm.cmd" : "pnpm", []];
  return [windows ? "npx.cmd" : "npx", ["--yes", `pnpm@${pinned}`]];
}

/**
 * The headers as a pnpm setting too: an npmrc's nodedir (this machine's /etc/npmrc names the
 * system's, which are another Node.js version's) wins over the environment for build scripts.
 */
function nodedirFlag() {
  const headers = environment().npm_config_nodedir;
  return headers === undefined ? [] : [`--config.nodedir=${headers}`];
}

/** Runs pnpm with `args` in the repository root; returns its exit code. */
export function pnpm(args, { stdio = "inherit" } = {}) {
  const [command, prefix] = pnpmCommand();
  const result = spawnSync(command, [...prefix, ...args], { cwd: root, stdio, env: environment(), shell: windows });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Installs dependencies unless node_modules already matches the lockfile. */
export function ensureInstalled() {
  const lockfile = join(root, "pnpm-lock.yaml");
  const installed = join(root, "node_modules", ".pnpm", "lock.yaml");
  const upToDate = existsSync(installed) && existsSync(lockfile) && readFileSync(installed, "utf8") === readFileSync(lockfile, "utf8");
  if (!upToDate) {
    console.error(`Installing dependencies with pnpm ${pinned} (the first run compiles better-sqlite3, about two minutes)...`);
    const status = pnpm(["install", "--frozen-lockfile", ...nodedirFlag()]);
    if (status !== 0) process.exit(status);
  }
  // node_modules installed by another Node.js version holds a better-sqlite3 built for that one.
  if (!nativeAddonLoads()) {
    console.error(`Building better-sqlite3 for Node.js ${process.version} (about a minute)...`);
    const status = pnpm(["--filter", "@queue/core", "rebuild", "better-sqlite3", ...nodedirFlag()]);
    if (status !== 0 || !nativeAddonLoads()) {
      console.error(`better-sqlite3 could not be built for Node.js ${process.version}; see the messages above.`);
      process.exit(status || 1);
    }
  }
}

/** True when better-sqlite3's native addon loads in this Node.js (in a child: a failed load stays failed). */
function nativeAddonLoads() {
  const core = join(root, "packages", "core", "package.json");
  const probe = `new (require("node:module").createRequire(${JSON.stringify(core)})("better-sqlite3"))(":memory:").close()`;
  return spawnSync(process.execPath, ["-e", probe], { stdio: "ignore" }).status === 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  ensureInstalled();
  const args = process.argv.slice(2);
  process.exit(args.length === 0 ? 0 : pnpm(args));
}
