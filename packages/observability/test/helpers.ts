import { QueueClient } from "@queue/client";
import { openQueueDatabase, type QueueDatabase, TestClock } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach } from "vitest";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  removeTempDirs();
});

export function onCleanup(cleanup: () => unknown): void {
  cleanups.push(cleanup);
}

export function harness(): { db: QueueDatabase; clock: TestClock; client: QueueClient } {
  const clock = new TestClock(Date.UTC(2030, 0, 1));
  const db = openQueueDatabase({ path: tempDbPath(), clock });
  cleanups.push(() => db.close());
  return { db, clock, client: new QueueClient({ db }) };
}
