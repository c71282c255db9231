import { buildClaimSql, claimTasks, type OpenQueueDatabaseOptions, openQueueDatabase, type QueueDatabase, TestClock } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach } from "vitest";

const opened: QueueDatabase[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  removeTempDirs();
});

/** A fresh database file with a test clock; closed after the test. */
export function openTemp(options: OpenQueueDatabaseOptions = {}): { db: QueueDatabase; clock: TestClock } {
  const clock = new TestClock(Date.UTC(2030, 0, 1));
  const db = openQueueDatabase({ path: tempDbPath(), clock, ...options });
  opened.push(db);
  return { db, clock };
}

/** Leases the next runnable task the way a worker would, returning its id and lease token. */
export function leaseNext(db: QueueDatabase, workerId = "test-worker"): { id: number; token: string } | undefined {
  const token = `token-${Math.random()}`;
  const now = db.clock.now();
  const rows = db.transactionSync((tx) =>
    claimTasks(tx, buildClaimSql({ by: [{ column: "run_after", direction: "asc" }] }), {
      now,
      leaseUntil: now + 30_000,
      token,
      workerId,
      limit: 1,
    }),
  );
  const row = rows[0];
  return row === undefined ? undefined : { id: row[0], token };
}

export { tempDbPath };
