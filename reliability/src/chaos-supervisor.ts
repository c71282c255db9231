// The chaos run: worker and producer processes on one queue (a SQLite file, or a schema of a
// PostgreSQL database) while a supervisor kills a random worker with SIGKILL every few hundred
// milliseconds and starts a replacement. Afterwards the producers stop, the surviving workers
// drain the queue, and the run is checked against the execution records the handlers wrote
// durably before every kill could strike.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openQueueDatabase } from "@queue/core";
import { PostgresStore } from "@queue/postgres";
import { type ChildResult, spawnTypeScript, type TypeScriptChild } from "@queue/test-support";
import { type Execution, readExecutions } from "./chaos-record.js";
import { openQueueReader, type QueueReader, type TaskRecord } from "./chaos-storage.js";

export interface ChaosOptions {
  /** Worker processes alive at any time. */
  readonly workers: number;
  readonly producers: number;
  /** How long producers enqueue and the supervisor kills. */
  readonly durationMs: number;
  /** Mean time between kills (each wait is 0.5x to 1.5x of it). */
  readonly killIntervalMs: number;
  readonly leaseMs: number;
  /** Tasks each worker runs at once. */
  readonly concurrency: number;
  /** Each handler works for a random 0 to this many ms. */
  readonly workMs: number;
  /** Every how many workers started, one is a `queue work` CLI process (0: none). */
  readonly cliEvery: number;
  /** Producer batch size and pause between batches. */
  readonly batch: number;
  readonly produceIntervalMs: number;
  readonly maxAttempts: number;
  /** How long the workers may take to drain the queue once producers stop. */
  readonly drainTimeoutMs: number;
  /** Where the execution logs go, and the database file unless `postgres` is given. */
  readonly dir: string;
  /** A postgres:// URL whose `schema` parameter names a schema of its own: the queue lives there instead of a file. */
  readonly postgres?: string;
  readonly log?: (line: string) => void;
}

/** Defaults for a fast run, each overridable by a CHAOS_* environment variable. */
export function chaosOptionsFromEnv(dir: string, env: NodeJS.ProcessEnv = process.env): ChaosOptions {
  const number = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === "") return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`${name} must be a number >= 0; got ${value}`);
    return parsed;
  };
  return {
    workers: number("CHAOS_WORKERS", 4),
    producers: number("CHAOS_PRODUCERS", 2),
    durationMs: number("CHAOS_DURATION_MS", 10_000),
    killIntervalMs: number("CHAOS_KILL_INTERVAL_MS", 400),
    leaseMs: number("CHAOS_LEASE_MS", 3_000),
    concurrency: number("CHAOS_CONCURRENCY", 4),
    workMs: number("CHAOS_WORK_MS", 5),
    cliEvery: number("CHAOS_CLI_EVERY", 3),
    batch: number("CHAOS_BATCH", 10),
    produceIntervalMs: number("CHAOS_PRODUCE_INTERVAL_MS", 25),
    maxAttempts: number("CHAOS_MAX_ATTEMPTS", 25),
    drainTimeoutMs: number("CHAOS_DRAIN_TIMEOUT_MS", 60_000),
    dir,
  };
}

export interface ChaosReport {
  readonly enqueued: number;
  readonly completed: number;
  readonly deadLettered: number;
  /** Executions that started again after an earlier execution of the same task was killed. */
  readonly reExecutedAfterKill: number;
  readonly tasksReExecuted: number;
  readonly killed: number;
  /** Killed workers that had started at least one execution. */
  readonly killedWhileWorking: number;
  readonly workersStarted: number;
  readonly cliWorkersStarted: number;
  readonly executions: number;
  readonly workerErrors: readonly string[];
  readonly producerErrors: readonly string[];
  readonly integrity: string;
  readonly durationMs: number;
  /** Every broken guarantee, as a sentence; empty when the run is clean. */
  readonly problems: readonly string[];
}

const script = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));
const CLI_BIN = fileURLToPath(new URL("../../packages/cli/src/bin.ts", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Spawned extends TypeScriptChild {
  readonly kind: "script" | "cli";
  ready: boolean;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const path = options.postgres ?? join(options.dir, "chaos.db");
  const logDir = join(options.dir, "executions");
  mkdirSync(logDir, { recursive: true });
  if (options.postgres === undefined) openQueueDatabase({ path }).close();
  else await (await PostgresStore.open({ url: options.postgres })).close();
  const childEnv = {
    CHAOS_DB: path,
    CHAOS_LOG_DIR: logDir,
    CHAOS_LEASE_MS: String(options.leaseMs),
    CHAOS_CONCURRENCY: String(options.concurrency),
    CHAOS_WORK_MS: String(options.workMs),
    CHAOS_BATCH: String(options.batch),
    CHAOS_PRODUCE_INTERVAL_MS: String(options.produceIntervalMs),
    CHAOS_MAX_ATTEMPTS: String(options.maxAttempts),
    QUEUE_DB_PATH: undefined,
    NO_COLOR: "1",
  };

  let startedCount = 0;
  let cliCount = 0;
  const startWorker = (): Spawned => {
    startedCount += 1;
    const cli = options.cliEvery > 0 && startedCount % options.cliEvery === 0;
    const child = cli
      ? spawnTypeScript(
          CLI_BIN,
          [
            "work",
            "--db",
            path,
            "--handlers",
            script("chaos-handlers.ts"),
            "--concurrency",
            String(options.concurrency),
            "--lease-ms",
            String(options.leaseMs),
            "--strategy",
            "fifo",
          ],
          { env: childEnv },
        )
      : spawnTypeScript(script("chaos-worker.ts"), [], { env: childEnv });
    if (cli) cliCount += 1;
    const spawned: Spawned = { ...child, kind: cli ? "cli" : "script", ready: false };
    const stream = cli ? child.child.stderr : child.child.stdout;
    stream?.on("data", (chunk: Buffer | string) => {
      if (!spawned.ready && /ready|worker \S+ on /.test(String(chunk))) spawned.ready = true;
    });
    return spawned;
  };

  const alive = new Set<Spawned>();
  const finished: { spawned: Spawned; result: ChildResult }[] = [];
  const track = (spawned: Spawned) => {
    alive.add(spawned);
    void spawned.done.then((result) => {
      alive.delete(spawned);
      finished.push({ spawned, result });
    });
  };
  for (let index = 0; index < options.workers; index++) track(startWorker());
  const producers = Array.from({ length: options.producers }, () => spawnTypeScript(script("chaos-producer.ts"), [], { env: childEnv }));

  const killed = new Set<number>();
  const chaosEnds = started + options.durationMs;
  while (Date.now() < chaosEnds) {
    await sleep(Math.min(options.killIntervalMs * (0.5 + Math.random()), Math.max(0, chaosEnds - Date.now())));
    if (Date.now() >= chaosEnds) break;
    const candidates = [...alive].filter((spawned) => spawned.ready && spawned.child.pid !== undefined);
    const victim = candidates[Math.floor(Math.random() * candidates.length)];
    if (victim === undefined) continue;
    killed.add(victim.child.pid as number);
    victim.child.kill("SIGKILL");
    alive.delete(victim);
    track(startWorker());
  }
  log(`chaos phase over after ${Date.now() - started} ms; ${killed.size} workers killed; stopping producers`);

  for (const producer of producers) producer.child.kill("SIGTERM");
  const producerResults = await Promise.all(producers.map((producer) => producer.done));
  const producerErrors: string[] = [];
  let enqueued = 0;
  for (const result of producerResults) {
    const report = lastJsonLine(result.stdout) as { enqueued: number; errors: { message: string }[] } | undefined;
    if (report === undefined) {
      producerErrors.push(`a producer exited (${result.code ?? result.signal}) without a report: ${result.stderr.slice(0, 500)}`);
      continue;
    }
    enqueued += report.enqueued;
    producerErrors.push(...report.errors.map((error) => error.message));
  }

  const reader = openQueueReader(path);
  const drained = await waitForDrain(reader, options.drainTimeoutMs).catch(async (error: unknown) => {
    await reader.close();
    throw error;
  });
  log(`drained: ${drained}; stopping ${alive.size} workers`);
  const survivors = [...alive];
  // A worker started to replace the last one killed may still be loading: until it has said it is
  // ready it has no SIGTERM handler, and the signal would kill it rather than stop it.
  const readyBy = Date.now() + 15_000;
  while (survivors.some((spawned) => !spawned.ready && spawned.child.exitCode === null) && Date.now() < readyBy) await sleep(20);
  for (const spawned of survivors) spawned.child.kill("SIGTERM");
  await Promise.all(survivors.map((spawned) => spawned.done));
  // Let the `done` handlers above record the last exits.
  await sleep(0);

  const problems: string[] = [];
  if (!drained) problems.push(`the queue did not drain within ${options.drainTimeoutMs} ms after producers stopped`);
  const workerErrors: string[] = [];
  for (const { spawned, result } of finished) {
    const pid = spawned.child.pid ?? -1;
    if (killed.has(pid)) {
      if (result.signal !== "SIGKILL") problems.push(`worker ${pid} was to be killed but exited with ${result.code ?? result.signal}`);
      continue;
    }
    if (result.code !== 0)
      problems.push(`worker ${pid} (${spawned.kind}) exited with ${result.code ?? result.signal}: ${result.stderr.slice(0, 500)}`);
    if (spawned.kind === "script") {
      const report = lastJsonLine(result.stdout) as { errors: { code?: string; message: string }[] } | undefined;
      if (report === undefined) problems.push(`worker ${pid} printed no report`);
      else workerErrors.push(...report.errors.map((error) => `${error.code ?? "?"}: ${error.message}`));
    } else {
      workerErrors.push(...result.stderr.split("\n").filter((line) => /^worker \S+: /.test(line)));
    }
  }
  // Error events from killed workers are lost with them; the survivors' must be none.
  if (workerErrors.length > 0) problems.push(`workers reported ${workerErrors.length} errors, first: ${workerErrors[0]}`);
  if (producerErrors.length > 0) problems.push(`producers reported ${producerErrors.length} errors, first: ${producerErrors[0]}`);

  const verdict = verifyTasks(
    await reader.tasks(),
    await reader.integrity(),
    readExecutions(logDir),
    killed,
    enqueued,
    options.maxAttempts,
  );
  await reader.close();
  problems.push(...verdict.problems);
  return {
    enqueued,
    completed: verdict.completed,
    deadLettered: verdict.deadLettered,
    reExecutedAfterKill: verdict.reExecutedAfterKill,
    tasksReExecuted: verdict.tasksReExecuted,
    killed: killed.size,
    killedWhileWorking: verdict.killedWhileWorking,
    workersStarted: startedCount,
    cliWorkersStarted: cliCount,
    executions: verdict.executions,
    workerErrors,
    producerErrors,
    integrity: verdict.integrity,
    durationMs: Date.now() - started,
    problems,
  };
}

async function waitForDrain(reader: QueueReader, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await reader.pending()) === 0) return true;
    await sleep(100);
  }
  return (await reader.pending()) === 0;
}

/** The last line of a child's output that parses as JSON (its report), if any. */
export function lastJsonLine(stdout: string): unknown {
  const line = stdout
    .trim()
    .split("\n")
    .reverse()
    .find((candidate) => candidate.startsWith("{"));
  if (line === undefined) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

export interface Verdict {
  completed: number;
  deadLettered: number;
  reExecutedAfterKill: number;
  tasksReExecuted: number;
  killedWhileWorking: number;
  executions: number;
  integrity: string;
  problems: string[];
}

/** verifyTasks on the tasks of a SQLite file. */
export async function verifyExecutions(
  path: string,
  executions: readonly Execution[],
  killed: ReadonlySet<number>,
  enqueued: number,
  maxAttempts: number,
): Promise<Verdict> {
  const reader = openQueueReader(path);
  try {
    return verifyTasks(await reader.tasks(), await reader.integrity(), executions, killed, enqueued, maxAttempts);
  } finally {
    await reader.close();
  }
}

/**
 * The guarantees, checked against the stored tasks and the execution records:
 * - every enqueued task is in the file and completed (none dead-lettered: handlers never fail,
 *   and maxAttempts is far above the kills one task can suffer);
 * - each task's executions have distinct attempt numbers (one lease per attempt), every execution
 *   but the last was in a process that was then killed, and the stored result names the last one
 *   (so it was completed once, by the execution that finished last);
 * - the storage is consistent (SQLite's integrity_check; PostgreSQL's lease and finished_at rules).
 */
export function verifyTasks(
  tasks: readonly TaskRecord[],
  integrity: string,
  executions: readonly Execution[],
  killed: ReadonlySet<number>,
  enqueued: number,
  maxAttempts: number,
): Verdict {
  const problems: string[] = [];
  if (integrity !== "ok") problems.push(`integrity_check: ${integrity}`);
  if (tasks.length !== enqueued) problems.push(`producers enqueued ${enqueued} tasks but the queue holds ${tasks.length}`);

  const starts = new Map<number, Execution[]>();
  for (const execution of executions) {
    if (execution.phase !== "started") continue;
    const list = starts.get(execution.taskId) ?? [];
    list.push(execution);
    starts.set(execution.taskId, list);
  }
  let completed = 0;
  let deadLettered = 0;
  let reExecutedAfterKill = 0;
  let tasksReExecuted = 0;
  const report = (message: string) => {
    if (problems.length < 20) problems.push(message);
  };
  for (const task of tasks) {
    if (task.status === "completed") completed += 1;
    else if (task.status === "dead_letter") deadLettered += 1;
    if (task.status !== "completed") {
      report(`task ${task.id} ended ${task.status} after ${task.attempts} attempts (max ${maxAttempts})`);
      continue;
    }
    const runs = (starts.get(task.id) ?? []).sort((a, b) => a.attempt - b.attempt);
    const last = runs.at(-1);
    if (last === undefined) {
      report(`task ${task.id} is completed but no execution of it was recorded`);
      continue;
    }
    if (new Set(runs.map((run) => run.attempt)).size !== runs.length) {
      report(`task ${task.id} ran twice under one attempt number: ${JSON.stringify(runs)}`);
    }
    for (const earlier of runs.slice(0, -1)) {
      if (!killed.has(earlier.pid))
        report(`task ${task.id} ran again after attempt ${earlier.attempt} in ${earlier.pid}, which was not killed`);
    }
    if (runs.length > 1) {
      tasksReExecuted += 1;
      reExecutedAfterKill += runs.length - 1;
    }
    const result = JSON.parse(task.result ?? "null") as { pid?: number; attempt?: number } | null;
    if (result?.pid !== last.pid || result?.attempt !== last.attempt || task.attempts !== last.attempt) {
      report(`task ${task.id}: result ${task.result} (attempts ${task.attempts}) is not from its last execution ${JSON.stringify(last)}`);
    }
  }
  const workingPids = new Set(executions.map((execution) => execution.pid));
  return {
    completed,
    deadLettered,
    reExecutedAfterKill,
    tasksReExecuted,
    killedWhileWorking: [...killed].filter((pid) => workingPids.has(pid)).length,
    executions: [...starts.values()].reduce((sum, list) => sum + list.length, 0),
    integrity,
    problems,
  };
}
