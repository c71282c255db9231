// plainjob 0.0.x on better-sqlite3, through its public API, with its own settings (it sets WAL,
// synchronous=NORMAL and a busy timeout itself, as the queue does). Its queue calls are
// synchronous; its worker runs one job at a time (no concurrency option) and polls only when idle.
import Database from "better-sqlite3";
import { better, defineQueue, defineWorker, type Queue } from "plainjob";
import {
  awaitedCalls,
  batchedCalls,
  Completions,
  inFlightCalls,
  PAYLOAD_OBJECT,
  PROCESS_TIMEOUT_MS,
  perSecond,
  QUIET_LOGGER,
} from "./common.js";

function openQueue(path: string): Queue {
  return defineQueue({ connection: better(new Database(path)), logger: QUIET_LOGGER });
}

/** `queue.add()` one after another (a synchronous call). */
export async function enqueueAwaited(path: string, rows: number): Promise<number> {
  const queue = openQueue(path);
  try {
    return perSecond(rows, await awaitedCalls(rows, () => queue.add("bench", PAYLOAD_OBJECT)));
  } finally {
    queue.close();
  }
}

/** `queue.add()` from `inFlight` async lanes: the calls are synchronous, so they run one after another. */
export async function enqueueConcurrent(path: string, rows: number, inFlight: number): Promise<number> {
  const queue = openQueue(path);
  try {
    return perSecond(rows, await inFlightCalls(rows, inFlight, async () => queue.add("bench", PAYLOAD_OBJECT)));
  } finally {
    queue.close();
  }
}

/** `queue.addMany()` with `batch` jobs per call. */
export async function enqueueBatches(path: string, rows: number, batch: number): Promise<number> {
  const queue = openQueue(path);
  const items = Array.from({ length: batch }, () => PAYLOAD_OBJECT);
  try {
    return perSecond(rows, await batchedCalls(rows, batch, (size) => queue.addMany("bench", items.slice(0, size))));
  } finally {
    queue.close();
  }
}

/** One worker draining `rows` pre-filled no-op jobs; timed from `start()` to the last job marked done. */
export async function processQueue(path: string, rows: number): Promise<number> {
  const queue = openQueue(path);
  for (let done = 0; done < rows; done += 1_000)
    queue.addMany(
      "bench",
      Array.from({ length: Math.min(1_000, rows - done) }, () => PAYLOAD_OBJECT),
    );
  const completions = new Completions(rows);
  const worker = defineWorker("bench", () => undefined, {
    queue,
    logger: QUIET_LOGGER,
    // Called after the job is marked done in the file.
    onCompleted: () => completions.add(),
  });
  try {
    const begin = performance.now();
    const running = worker.start();
    await completions.reached(PROCESS_TIMEOUT_MS, "plainjob");
    const elapsed = performance.now() - begin;
    await worker.stop();
    await running;
    return perSecond(rows, elapsed);
  } finally {
    await worker.stop();
    queue.close();
  }
}
