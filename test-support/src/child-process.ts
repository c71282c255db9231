import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
/** tsx's loader, resolved from here so children find it wherever the test runs. */
const TSX_LOADER = require.resolve("tsx");

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TypeScriptChild {
  readonly child: ChildProcess;
  /** Settles when the process exits. */
  readonly done: Promise<ChildResult>;
}

export interface SpawnOptions {
  readonly env?: Record<string, string | undefined>;
  readonly uid?: number;
  readonly gid?: number;
  readonly cwd?: string;
  /** Written to the child's standard input, which is then closed. */
  readonly input?: string;
}

/**
 * Starts `node` on a TypeScript file, resolving workspace packages from their sources (the
 * `@queue/source` condition), exactly as the tests do. A real process: use it to prove claims about
 * concurrency and crashes.
 */
export function spawnTypeScript(script: string, args: readonly string[] = [], options: SpawnOptions = {}): TypeScriptChild {
  const child = spawn(process.execPath, ["--conditions=@queue/source", "--import", TSX_LOADER, script, ...args], {
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  if (options.input !== undefined) child.stdin?.end(options.input);
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** Runs a TypeScript file to completion and returns what it printed. */
export function runTypeScript(script: string, args: readonly string[] = [], options: SpawnOptions = {}): Promise<ChildResult> {
  return spawnTypeScript(script, args, options).done;
}
