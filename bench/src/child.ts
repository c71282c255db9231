// Child processes of the bench: TypeScript run through tsx on the build of the workspace's packages
// that the bench measures (packages.ts), as the worker processes of queue-ops.ts are. A child says
// "ready" on stdout once it has opened what it needs, waits for lines on stdin ("go", "stop"), and
// ends by printing one JSON report.
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { buildArgs } from "./packages.js";

const require = createRequire(import.meta.url);
const TSX = require.resolve("tsx");

export interface BenchChild<Report> {
  readonly child: ChildProcess;
  /** Settles once the child has printed "ready". */
  readonly ready: Promise<void>;
  /** The JSON the child printed after "ready", once it has exited with code 0. */
  readonly report: Promise<Report>;
  /** Writes one line to the child's standard input. */
  send(line: string): void;
}

/** Path of a script beside this file. */
export function benchScript(name: string): string {
  return fileURLToPath(new URL(`./${name}`, import.meta.url));
}

/** Node's arguments to run a TypeScript file of the workspace, on the build this process measures. */
export function typeScriptArgs(script: string, args: readonly string[]): string[] {
  return [...buildArgs(), "--import", TSX, script, ...args];
}

export function spawnBenchChild<Report>(script: string, args: readonly string[]): BenchChild<Report> {
  const child = spawn(process.execPath, typeScriptArgs(script, args), {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let output = "";
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
    if (output.includes("ready\n")) onReady();
  });
  const report = new Promise<Report>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => {
      const start = output.indexOf("ready\n");
      if (code !== 0 || start === -1) {
        reject(new Error(`${script} ${args.join(" ")} exited with ${code ?? signal}`));
        return;
      }
      try {
        resolve(JSON.parse(output.slice(start + "ready\n".length)) as Report);
      } catch (error) {
        reject(new Error(`${script} printed no JSON report: ${(error as Error).message}`));
      }
    });
  });
  // A child that dies before "ready" must not leave its parent waiting.
  const readyOrFailed = Promise.race([ready, report.then(() => undefined)]);
  report.catch(() => undefined);
  return { child, ready: readyOrFailed, report, send: (line) => child.stdin?.write(`${line}\n`) };
}

/** A child that talks over Node's IPC channel: one reply per message, in order. */
export interface IpcChild {
  readonly child: ChildProcess;
  /** The next message from the child (the first is the one it sends when ready). */
  next<Reply>(): Promise<Reply>;
  /** Sends `message` and waits for the reply. */
  request<Reply>(message: unknown): Promise<Reply>;
}

export function spawnIpcChild(script: string, args: readonly string[]): IpcChild {
  // The child's stdout goes to this process's stderr: the bench's stdout is the Markdown report.
  const child = spawn(process.execPath, typeScriptArgs(script, args), { stdio: ["ignore", 2, "inherit", "ipc"] });
  const messages: unknown[] = [];
  const waiting: { resolve(message: unknown): void; reject(error: Error): void }[] = [];
  let ended: Error | undefined;
  child.on("message", (message) => {
    const waiter = waiting.shift();
    if (waiter !== undefined) waiter.resolve(message);
    else messages.push(message);
  });
  child.once("exit", (code, signal) => {
    ended = new Error(`${script} ${args.join(" ")} exited with ${code ?? signal}`);
    for (const waiter of waiting.splice(0)) waiter.reject(ended);
  });
  const next = <Reply>() => {
    if (messages.length > 0) return Promise.resolve(messages.shift() as Reply);
    if (ended !== undefined) return Promise.reject(ended);
    return new Promise<Reply>((resolve, reject) => waiting.push({ resolve: resolve as (message: unknown) => void, reject }));
  };
  return {
    child,
    next,
    request: <Reply>(message: unknown) => {
      if (!child.connected) return Promise.reject(ended ?? new Error(`${script} is not connected`));
      child.send(message as never);
      return next<Reply>();
    },
  };
}

/** Waits up to `ms` for the child to exit on its own, then kills it. */
export async function ended(child: ChildProcess, ms = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) child.kill();
}

/** Resolves with each line the process reads on stdin, in order, via `next()`. */
export function stdinLines(): { next(): Promise<string> } {
  const queue: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffer = "";
  process.stdin.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end).trim();
      buffer = buffer.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter !== undefined) waiter(line);
      else queue.push(line);
    }
  });
  return {
    next: () => {
      const line = queue.shift();
      return line !== undefined ? Promise.resolve(line) : new Promise((resolve) => waiting.push(resolve));
    },
  };
}

/** This process's peak resident set since it started (getrusage's maxrss), in KiB. */
export function maxRssKiB(): number {
  return process.resourceUsage().maxRSS;
}
