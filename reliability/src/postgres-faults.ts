// A fault run on PostgreSQL: worker processes and producer processes on one schema while the test
// injects a fault (connections killed, the server restarted, a lock past the statement timeout).
// Producers retry a failed batch under idempotency keys until it goes through; afterwards the
// workers drain the queue and stop, and the run is checked against the handlers' execution records.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PostgresStore } from "@queue/postgres";
import { spawnTypeScript, type TypeScriptChild } from "@queue/test-support";
import type { ReportedError } from "./chaos-errors.js";
import { type Execution, readExecutions } from "./chaos-record.js";
import { openQueueReader, type TaskRecord } from "./chaos-storage.js";
import { lastJsonLine } from "./chaos-supervisor.js";

const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FaultRunOptions {
  /** A postgres:// URL with a schema of its own. */
  readonly location: string;
  /** Where execution records go. */
  readonly dir: string;
  readonly workers: number;
  readonly producers: number;
  /** Tasks each producer enqueues (then it exits). */
  readonly tasksPerProducer: number;
  /** Extra environment for the worker processes (CHAOS_PG_*). */
  readonly workerEnv?: Record<string, string>;
  /** Injects the fault while the producers enqueue; resolves when it is over. */
  readonly fault: (run: { readonly producing: () => boolean }) => Promise<void>;
  readonly drainTimeoutMs?: number;
}

export interface FaultRunReport {
  readonly enqueued: number;
  readonly completed: number;
  /** Tasks whose handler ran more than once, or never, or whose result is not from their one run. */
  readonly problems: readonly string[];
  readonly workerErrors: readonly ReportedError[];
  readonly producerErrors: readonly ReportedError[];
  readonly durationMs: number;
}

interface ChildReport {
  readonly errors: readonly ReportedError[];
  readonly enqueued?: number;
  readonly pid: number;
}

/** Runs the scenario and checks it: every task completed, its handler run exactly once, nothing lost. */
export async function runFaultScenario(options: FaultRunOptions): Promise<FaultRunReport> {
  const started = Date.now();
  const logDir = join(options.dir, "executions");
  mkdirSync(logDir, { recursive: true });
  // Migrate once up front, so that the children start on a ready schema.
  await (await PostgresStore.open({ url: options.location })).close();
  const env = {
    CHAOS_DB: options.location,
    CHAOS_LOG_DIR: logDir,
    CHAOS_LEASE_MS: "8000",
    CHAOS_CONCURRENCY: "8",
    CHAOS_WORK_MS: "5",
    CHAOS_BATCH: "10",
    CHAOS_PRODUCE_INTERVAL_MS: "10",
    CHAOS_MAX_ATTEMPTS: "25",
    CHAOS_MAX_TASKS: String(options.tasksPerProducer),
    CHAOS_RETRY: "1",
    QUEUE_DB_PATH: undefined,
    NO_COLOR: "1",
  };
  const workers = Array.from({ length: options.workers }, () =>
    spawnTypeScript(script("chaos-worker.ts"), [], { env: { ...env, ...options.workerEnv } }),
  );
  await Promise.all(workers.map((worker) => untilPrinted(worker, "ready")));
  const producers = Array.from({ length: options.producers }, () => spawnTypeScript(script("chaos-producer.ts"), [], { env }));
  let producing = true;
  const produced = Promise.all(producers.map((producer) => producer.done)).finally(() => {
    producing = false;
  });
  await options.fault({ producing: () => producing });
  const producerResults = await produced;

  const problems: string[] = [];
  const producerErrors: ReportedError[] = [];
  let enqueued = 0;
  const keys = new Set<string>();
  for (const result of producerResults) {
    const report = lastJsonLine(result.stdout) as ChildReport | undefined;
    if (report === undefined || result.code !== 0) {
      problems.push(`a producer exited (${result.code ?? result.signal}) without a report: ${result.stderr.slice(0, 800)}`);
      continue;
    }
    enqueued += report.enqueued ?? 0;
    producerErrors.push(...report.errors);
    for (let n = 0; n < (report.enqueued ?? 0); n++) keys.add(`${report.pid}-${n}`);
  }

  const reader = openQueueReader(options.location);
  let tasks: TaskRecord[];
  try {
    const deadline = Date.now() + (options.drainTimeoutMs ?? 60_000);
    while ((await reader.pending()) > 0 && Date.now() < deadline) await sleep(100);
    tasks = await reader.tasks();
    const integrity = await reader.integrity();
    if (integrity !== "ok") problems.push(`consistency: ${integrity}`);
  } finally {
    await reader.close();
  }

  for (const worker of workers) worker.child.kill("SIGTERM");
  const workerErrors: ReportedError[] = [];
  for (const result of await Promise.all(workers.map((worker) => worker.done))) {
    const report = lastJsonLine(result.stdout) as ChildReport | undefined;
    if (result.code !== 0 || report === undefined) {
      problems.push(`a worker exited with ${result.code ?? result.signal}: ${result.stderr.slice(0, 800)}`);
      continue;
    }
    workerErrors.push(...report.errors);
  }

  problems.push(...checkExactlyOnce(tasks, keys, readExecutions(logDir)));
  return {
    enqueued,
    completed: tasks.filter((task) => task.status === "completed").length,
    problems,
    workerErrors,
    producerErrors,
    durationMs: Date.now() - started,
  };
}

/**
 * Every task a producer was told it enqueued is there once (by its idempotency key), nothing else
 * is, every task is completed, its handler started and finished exactly once, and its result
 * names that run.
 */
export function checkExactlyOnce(tasks: readonly TaskRecord[], keys: ReadonlySet<string>, executions: readonly Execution[]): string[] {
  const problems: string[] = [];
  const report = (message: string) => {
    if (problems.length < 20) problems.push(message);
  };
  const seenKeys = new Set<string>();
  for (const task of tasks) {
    if (task.idempotency_key === null || !keys.has(task.idempotency_key))
      report(`task ${task.id} (key ${task.idempotency_key}) was never acknowledged`);
    else seenKeys.add(task.idempotency_key);
  }
  const lost = [...keys].filter((key) => !seenKeys.has(key));
  if (lost.length > 0) report(`${lost.length} acknowledged tasks are missing, first key ${lost[0]}`);
  const runs = new Map<number, { started: Execution[]; finished: number }>();
  for (const execution of executions) {
    const entry = runs.get(execution.taskId) ?? { started: [], finished: 0 };
    if (execution.phase === "started") entry.started.push(execution);
    else entry.finished += 1;
    runs.set(execution.taskId, entry);
  }
  for (const task of tasks) {
    if (task.status !== "completed") {
      report(`task ${task.id} ended ${task.status} after ${task.attempts} attempts`);
      continue;
    }
    const entry = runs.get(task.id);
    if (entry === undefined || entry.started.length !== 1 || entry.finished !== 1) {
      report(`task ${task.id}: its handler started ${entry?.started.length ?? 0} times and finished ${entry?.finished ?? 0} times`);
      continue;
    }
    const [run] = entry.started as [Execution];
    const result = JSON.parse(task.result ?? "null") as { pid?: number; attempt?: number } | null;
    if (result?.pid !== run.pid || result.attempt !== run.attempt) report(`task ${task.id}: result ${task.result} is not from its run`);
  }
  return problems;
}

/** Counts errors by code and detail ("DATABASE_UNAVAILABLE/57P01": 3), for the log and the checks. */
export function tally(errors: readonly ReportedError[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const error of errors) {
    const key = `${error.typed ? "" : "UNTYPED "}${error.code ?? "?"}${error.detail === undefined ? "" : `/${error.detail}`}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

async function untilPrinted(child: TypeScriptChild, text: string, timeoutMs = 30_000): Promise<void> {
  const stream = child.child.stdout;
  if (stream === null) throw new Error("the child has no stdout");
  let seen = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`a child did not print ${text} within ${timeoutMs} ms: ${seen}`)), timeoutMs);
    const onData = (chunk: Buffer | string) => {
      seen += String(chunk);
      if (seen.includes(text)) {
        clearTimeout(timer);
        stream.off("data", onData);
        resolve();
      }
    };
    stream.on("data", onData);
    void child.done.then((result) => {
      clearTimeout(timer);
      reject(new Error(`a child exited (${result.code ?? result.signal}) before printing ${text}: ${result.stderr.slice(0, 800)}`));
    });
  });
}
