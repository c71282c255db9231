// BullMQ 6 on the local Redis (127.0.0.1:6379), through its public API with its documented
// defaults (jobs kept after completion; a Worker's connection with maxRetriesPerRequest: null, as
// BullMQ requires). Each run works under a key prefix of its own and obliterates its queue after.
import { Queue, Worker } from "bullmq";
import { REDIS, requireService } from "./availability.js";
import { awaitedCalls, batchedCalls, Completions, inFlightCalls, PAYLOAD_OBJECT, PROCESS_TIMEOUT_MS, perSecond } from "./common.js";

const connection = { host: REDIS.host, port: REDIS.port, maxRetriesPerRequest: null };
let runs = 0;

async function withQueue(use: (queue: Queue, prefix: string) => Promise<number>): Promise<number> {
  await requireService(REDIS);
  const prefix = `queue-bench-${process.pid}-${runs++}`;
  const queue = new Queue("bench", { connection, prefix });
  try {
    await queue.waitUntilReady();
    return await use(queue, prefix);
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

/** `await queue.add()` one after another. */
export function enqueueAwaited(rows: number): Promise<number> {
  return withQueue(async (queue) => perSecond(rows, await awaitedCalls(rows, () => queue.add("bench", PAYLOAD_OBJECT))));
}

/** `inFlight` add() calls outstanding at all times. */
export function enqueueConcurrent(rows: number, inFlight: number): Promise<number> {
  return withQueue(async (queue) => perSecond(rows, await inFlightCalls(rows, inFlight, () => queue.add("bench", PAYLOAD_OBJECT))));
}

/** `queue.addBulk()` with `batch` jobs per call. */
export function enqueueBatches(rows: number, batch: number): Promise<number> {
  const jobs = Array.from({ length: batch }, () => ({ name: "bench", data: PAYLOAD_OBJECT }));
  return withQueue(async (queue) => perSecond(rows, await batchedCalls(rows, batch, (size) => queue.addBulk(jobs.slice(0, size)))));
}

/**
 * A Worker at `concurrency` draining `rows` pre-filled no-op jobs; timed from run() on a connected
 * worker to its `completed` event for the last job (emitted once the job is moved to completed).
 */
export function processQueue(rows: number, concurrency: number): Promise<number> {
  return withQueue(async (queue, prefix) => {
    const jobs = Array.from({ length: 1_000 }, () => ({ name: "bench", data: PAYLOAD_OBJECT }));
    for (let done = 0; done < rows; done += 1_000) await queue.addBulk(jobs.slice(0, Math.min(1_000, rows - done)));
    const completions = new Completions(rows);
    const worker = new Worker("bench", async () => undefined, { connection, prefix, concurrency, autorun: false });
    worker.on("completed", () => completions.add());
    const failures: string[] = [];
    worker.on("failed", (_job, error) => failures.push(String(error)));
    try {
      await worker.waitUntilReady();
      const begin = performance.now();
      const running = worker.run();
      await completions.reached(PROCESS_TIMEOUT_MS, "BullMQ");
      const elapsed = performance.now() - begin;
      await worker.close();
      await running;
      if (failures.length > 0) throw new Error(`BullMQ: ${failures.length} jobs failed: ${failures[0]}`);
      return perSecond(rows, elapsed);
    } finally {
      await worker.close();
    }
  });
}
