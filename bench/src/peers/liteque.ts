// liteque 0.8 on better-sqlite3 (through drizzle), through its public API with the settings its
// README shows: buildDBClient with migrations (WAL, synchronous=NORMAL), a SqliteQueue, a Runner
// with a concurrency. It has no bulk enqueue.
import { createRequire } from "node:module";
import type Database from "better-sqlite3";
import { buildDBClient, Runner, SqliteQueue } from "liteque";
import { NotRun } from "../measure.js";
import { awaitedCalls, Completions, inFlightCalls, PAYLOAD_OBJECT, PROCESS_TIMEOUT_MS, perSecond, withDeadline } from "./common.js";

type Payload = typeof PAYLOAD_OBJECT;

function openQueue(path: string): { queue: SqliteQueue<Payload>; close: () => void } {
  const db = buildDBClient(path, { runMigrations: true });
  const queue = new SqliteQueue<Payload>("bench", db, { defaultJobArgs: { numRetries: 2 }, keepFailedJobs: false });
  // liteque has no close(); its drizzle handle keeps the better-sqlite3 connection in `session.client`.
  const close = () => (db as unknown as { session: { client: Database.Database } }).session.client.close();
  return { queue, close };
}

/** `await queue.enqueue()` one after another. */
export async function enqueueAwaited(path: string, rows: number): Promise<number> {
  const { queue, close } = openQueue(path);
  try {
    return perSecond(rows, await awaitedCalls(rows, () => queue.enqueue(PAYLOAD_OBJECT)));
  } finally {
    close();
  }
}

/** `inFlight` enqueue() calls outstanding at all times. */
export async function enqueueConcurrent(path: string, rows: number, inFlight: number): Promise<number> {
  const { queue, close } = openQueue(path);
  try {
    return perSecond(rows, await inFlightCalls(rows, inFlight, () => queue.enqueue(PAYLOAD_OBJECT)));
  } finally {
    close();
  }
}

export function enqueueBatches(): never {
  throw new NotRun("no bulk API (only enqueue() of one job)");
}

/**
 * liteque's dequeue passes an async callback to a transaction, which better-sqlite3 refuses since
 * 11.10 (an async transaction callback commits at its first await); the workspace's is 12.
 */
function explainAsyncTransaction(error: unknown): never {
  if (error instanceof TypeError && error.message.includes("cannot return a promise")) {
    const version = (createRequire(import.meta.url)("better-sqlite3/package.json") as { version: string }).version;
    throw new NotRun(
      `its Runner fails on better-sqlite3 ${version}: "${error.message}" (its dequeue runs an async callback in a transaction, which better-sqlite3 refuses since 11.10)`,
    );
  }
  throw error;
}

/** A Runner at `concurrency` draining `rows` pre-filled no-op jobs; timed from run() to the last job finalized. */
export async function processQueue(path: string, rows: number, concurrency: number): Promise<number> {
  const { queue, close } = openQueue(path);
  for (let i = 0; i < rows; i++) await queue.enqueue(PAYLOAD_OBJECT);
  const completions = new Completions(rows);
  const runner = new Runner<Payload>(
    queue,
    { run: async () => undefined, onComplete: async () => completions.add() },
    // Each job arms a timer of timeoutSecs that is never cleared: a short timeout keeps the
    // process from lingering after the bench.
    { concurrency, pollIntervalMs: 1_000, timeoutSecs: 10 },
  );
  try {
    const begin = performance.now();
    // runUntilEmpty() returns once every job has been finalized (deleted) and none is pending.
    await withDeadline(runner.runUntilEmpty(), PROCESS_TIMEOUT_MS, "liteque").catch(explainAsyncTransaction);
    const elapsed = performance.now() - begin;
    if (completions.count !== rows) throw new Error(`liteque completed ${completions.count} of ${rows}`);
    const left = await queue.stats();
    if (left.pending + left.running + left.pending_retry + left.failed > 0) throw new Error(`liteque left ${JSON.stringify(left)}`);
    return perSecond(rows, elapsed);
  } finally {
    runner.stop();
    close();
  }
}
