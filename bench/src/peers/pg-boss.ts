// pg-boss 10 (the newest major that supports Node 20) on the local PostgreSQL, through its public
// API with its defaults, in a schema of its own per run. Its workers fetch a batch per polling
// interval; the bench uses the shortest interval pg-boss accepts (0.5 s) and a batch of
// `concurrency` jobs, the closest it has to "concurrency N" (v10 has no local concurrency option).
import PgBoss from "pg-boss";
import { POSTGRES_URL } from "./availability.js";
import { awaitedCalls, batchedCalls, Completions, inFlightCalls, PAYLOAD_OBJECT, PROCESS_TIMEOUT_MS, perSecond, until } from "./common.js";
import { withSchema } from "./postgres.js";

const QUEUE = "bench";

function withBoss(use: (boss: PgBoss) => Promise<number>): Promise<number> {
  return withSchema("pgboss", async (schema) => {
    // No cron scheduling or maintenance loop during a run: neither does any work here.
    const boss = new PgBoss({ connectionString: POSTGRES_URL, schema, schedule: false, supervise: false });
    const errors: string[] = [];
    boss.on("error", (error) => errors.push(String(error)));
    await boss.start();
    try {
      await boss.createQueue(QUEUE);
      const result = await use(boss);
      if (errors.length > 0) throw new Error(`pg-boss: ${errors[0]}`);
      return result;
    } finally {
      await boss.stop({ graceful: false, wait: true });
    }
  });
}

/** `await boss.send()` one after another. */
export function enqueueAwaited(rows: number): Promise<number> {
  return withBoss(async (boss) => perSecond(rows, await awaitedCalls(rows, () => boss.send(QUEUE, PAYLOAD_OBJECT))));
}

/** `inFlight` send() calls outstanding at all times (pg-boss's pool has 10 connections by default). */
export function enqueueConcurrent(rows: number, inFlight: number): Promise<number> {
  return withBoss(async (boss) => perSecond(rows, await inFlightCalls(rows, inFlight, () => boss.send(QUEUE, PAYLOAD_OBJECT))));
}

/** `boss.insert()` with `batch` jobs per call. */
export function enqueueBatches(rows: number, batch: number): Promise<number> {
  const jobs = Array.from({ length: batch }, () => ({ name: QUEUE, data: PAYLOAD_OBJECT }));
  return withBoss(async (boss) => perSecond(rows, await batchedCalls(rows, batch, (size) => boss.insert(jobs.slice(0, size)))));
}

/**
 * One work() registration fetching `batchSize` jobs per 0.5 s poll, draining `rows` pre-filled
 * no-op jobs; timed from work() to the moment no job is left before the completed state.
 */
export function processQueue(rows: number, batchSize: number): Promise<number> {
  return withBoss(async (boss) => {
    const jobs = Array.from({ length: 1_000 }, () => ({ name: QUEUE, data: PAYLOAD_OBJECT }));
    for (let done = 0; done < rows; done += 1_000) await boss.insert(jobs.slice(0, Math.min(1_000, rows - done)));
    const handled = new Completions(rows);
    const begin = performance.now();
    await boss.work(QUEUE, { batchSize, pollingIntervalSeconds: 0.5 }, async (batch) => {
      for (const _ of batch) handled.add();
    });
    await handled.reached(PROCESS_TIMEOUT_MS, "pg-boss");
    // The handler has returned for every job; pg-boss marks them completed right after.
    await until(async () => (await boss.getQueueSize(QUEUE, { before: "completed" })) === 0, PROCESS_TIMEOUT_MS, "pg-boss");
    const elapsed = performance.now() - begin;
    await boss.offWork(QUEUE);
    return perSecond(rows, elapsed);
  });
}
