// The load run: many worker processes and producer processes on one file. All workers are started
// and ready before the producers begin, so each has a fair chance at the work.
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openQueueDatabase } from "@queue/core";
import { spawnTypeScript, type TypeScriptChild } from "@queue/test-support";
import Database from "better-sqlite3";

export interface LoadOptions {
  readonly workers: number;
  readonly producers: number;
  /** Tasks in all, split evenly between producers. */
  readonly tasks: number;
  readonly concurrency: number;
  readonly workMs: number;
  readonly dir: string;
  readonly timeoutMs: number;
}

export function loadOptionsFromEnv(dir: string, env: NodeJS.ProcessEnv = process.env): LoadOptions {
  const number = (name: string, fallback: number) => (env[name] === undefined || env[name] === "" ? fallback : Number(env[name]));
  return {
    workers: number("LOAD_WORKERS", 16),
    producers: number("LOAD_PRODUCERS", 4),
    tasks: number("LOAD_TASKS", 4_000),
    concurrency: number("LOAD_CONCURRENCY", 4),
    workMs: number("LOAD_WORK_MS", 3),
    timeoutMs: number("LOAD_TIMEOUT_MS", 120_000),
    dir,
  };
}

export interface LoadReport {
  readonly workers: number;
  readonly producers: number;
  readonly enqueued: number;
  readonly completed: number;
  /** Tasks claimed by each worker, fewest first. */
  readonly claimsPerWorker: readonly number[];
  readonly workerErrors: readonly string[];
  readonly producerErrors: readonly string[];
  readonly busyErrors: number;
  /** From the producers' start to the last completion. */
  readonly elapsedMs: number;
  readonly tasksPerSecond: number;
  readonly startupMs: number;
  readonly integrity: string;
  readonly problems: readonly string[];
}

const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lastJson(stdout: string): Record<string, unknown> | undefined {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith("{"));
  try {
    return line === undefined ? undefined : JSON.parse(line);
  } catch {
    return undefined;
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const path = join(options.dir, "load.db");
  openQueueDatabase({ path }).close();
  const env = {
    LOAD_DB: path,
    LOAD_CONCURRENCY: String(options.concurrency),
    LOAD_WORK_MS: String(options.workMs),
    QUEUE_DB_PATH: undefined,
  };
  const spawnedAt = Date.now();
  const workers: TypeScriptChild[] = [];
  const ready = Array.from({ length: options.workers }, () => {
    const worker = spawnTypeScript(script("load-worker.ts"), [], { env });
    workers.push(worker);
    return new Promise<void>((resolve, reject) => {
      worker.child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      void worker.done.then((result) => reject(new Error(`a worker exited before it was ready: ${result.stderr.slice(0, 500)}`)));
    });
  });
  await Promise.all(ready);
  const startupMs = Date.now() - spawnedAt;

  const started = Date.now();
  const perProducer = Math.floor(options.tasks / options.producers);
  const producers = Array.from({ length: options.producers }, (_, index) =>
    spawnTypeScript(script("load-producer.ts"), [], {
      env: { ...env, LOAD_COUNT: String(index === 0 ? options.tasks - perProducer * (options.producers - 1) : perProducer) },
    }),
  );
  const producerResults = await Promise.all(producers.map((producer) => producer.done));
  const db = new Database(path, { readonly: true });
  const completedCount = db.prepare("SELECT count(*) FROM tasks WHERE status = 'completed'").pluck();
  const deadline = Date.now() + options.timeoutMs;
  while ((completedCount.get() as number) < options.tasks && Date.now() < deadline) await sleep(20);
  const elapsedMs = Date.now() - started;
  const completed = completedCount.get() as number;
  db.close();

  for (const worker of workers) worker.child.kill("SIGTERM");
  const workerResults = await Promise.all(workers.map((worker) => worker.done));

  const problems: string[] = [];
  const workerErrors: string[] = [];
  const producerErrors: string[] = [];
  const claimsPerWorker: number[] = [];
  let enqueued = 0;
  for (const result of producerResults) {
    const report = lastJson(result.stdout) as { enqueued: number; errors: { code?: string; message: string }[] } | undefined;
    if (result.code !== 0 || report === undefined) {
      problems.push(`a producer failed (${result.code ?? result.signal}): ${result.stderr.slice(0, 500)}`);
      continue;
    }
    enqueued += report.enqueued;
    producerErrors.push(...report.errors.map((error) => `${error.code ?? "?"}: ${error.message}`));
  }
  for (const result of workerResults) {
    const report = lastJson(result.stdout) as { claimed: number; errors: { code?: string; message: string }[] } | undefined;
    if (result.code !== 0 || report === undefined) {
      problems.push(`a worker failed (${result.code ?? result.signal}): ${result.stderr.slice(0, 500)}`);
      continue;
    }
    claimsPerWorker.push(report.claimed);
    workerErrors.push(...report.errors.map((error) => `${error.code ?? "?"}: ${error.message}`));
  }
  claimsPerWorker.sort((a, b) => a - b);
  const check = new Database(path, { readonly: true });
  const integrity = String(check.pragma("integrity_check", { simple: true }));
  check.close();
  const busyErrors = [...workerErrors, ...producerErrors].filter((error) => error.startsWith("BUSY")).length;
  if (enqueued !== options.tasks) problems.push(`producers enqueued ${enqueued} of ${options.tasks} tasks`);
  if (completed !== options.tasks) problems.push(`${completed} of ${options.tasks} tasks completed within ${options.timeoutMs} ms`);
  if (workerErrors.length > 0) problems.push(`workers reported ${workerErrors.length} errors, first: ${workerErrors[0]}`);
  if (producerErrors.length > 0) problems.push(`producers reported ${producerErrors.length} errors, first: ${producerErrors[0]}`);
  const starved = claimsPerWorker.filter((claims) => claims === 0).length;
  if (starved > 0) problems.push(`${starved} of ${options.workers} workers never claimed a task`);
  if (integrity !== "ok") problems.push(`integrity_check: ${integrity}`);
  return {
    workers: options.workers,
    producers: options.producers,
    enqueued,
    completed,
    claimsPerWorker,
    workerErrors,
    producerErrors,
    busyErrors,
    elapsedMs,
    tasksPerSecond: Math.round((completed / elapsedMs) * 1000),
    startupMs,
    integrity,
    problems,
  };
}

export function describeLoad(report: LoadReport): string {
  const claims = report.claimsPerWorker;
  return (
    `load (${report.workers} worker + ${report.producers} producer processes): ${report.completed}/${report.enqueued} tasks completed in ${report.elapsedMs} ms ` +
    `= ${report.tasksPerSecond} tasks/s; claims per worker min ${claims[0]} / median ${claims[Math.floor(claims.length / 2)]} / max ${claims.at(-1)}; ` +
    `busy errors ${report.busyErrors}, other errors ${report.workerErrors.length + report.producerErrors.length - report.busyErrors}; ` +
    `integrity ${report.integrity}; ${report.startupMs} ms to start the workers`
  );
}
