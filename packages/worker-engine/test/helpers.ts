import { QueueClient } from "@queue/client";
import { openQueueDatabase, type QueueDatabase, systemClock, TestClock } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { Worker, type WorkerOptions } from "@queue/worker-engine";
import { afterEach } from "vitest";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  removeTempDirs();
});

export interface Harness {
  readonly db: QueueDatabase;
  /** A TestClock, or the system clock with `{ realTime: true }`. */
  readonly clock: TestClock;
  readonly client: QueueClient;
  worker(options: Omit<WorkerOptions, "db">): Worker;
}

/** A fresh file with a test clock (or real time), a client and a worker factory; everything is stopped after the test. */
export function harness(options: { realTime?: boolean } = {}): Harness {
  const clock = new TestClock(Date.UTC(2030, 0, 1));
  const db = openQueueDatabase({ path: tempDbPath(), clock: options.realTime ? systemClock : clock });
  const client = new QueueClient({ db });
  cleanups.push(() => db.close());
  return {
    db,
    clock,
    client,
    worker(options) {
      const worker = new Worker({ pollIntervalMs: 10, abortGraceMs: 100, ...options, db });
      cleanups.push(() => worker.stop({ graceful: false }));
      return worker;
    },
  };
}

/** Resolves when `predicate` holds, checking every few milliseconds; fails after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export { tempDbPath };
