import { QueueClient } from "@queue/client";
import { openQueueDatabase, type QueueDatabase, TestClock } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach } from "vitest";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  removeTempDirs();
});

export const DAY = 86_400_000;

export function harness(): { db: QueueDatabase; clock: TestClock; client: QueueClient } {
  const clock = new TestClock(Date.UTC(2030, 0, 1));
  const db = openQueueDatabase({ path: tempDbPath(), clock });
  cleanups.push(() => db.close());
  return { db, clock, client: new QueueClient({ db }) };
}

/** Inserts `count` tasks already in `status`, finished at `finishedAt`, in one transaction; returns their ids. */
export function insertFinished(
  db: QueueDatabase,
  count: number,
  status: "completed" | "dead_letter" | "cancelled",
  finishedAt: number,
  extra: { type?: string; error?: string } = {},
): number[] {
  return db.transactionSync((tx) => {
    const insert = tx.statement(
      "INSERT INTO tasks (type, status, payload, attempts, run_after, error, started_at, finished_at, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
    );
    return Array.from({ length: count }, (_, n) =>
      Number(
        insert.run(
          extra.type ?? "t",
          status,
          JSON.stringify({ n }),
          finishedAt,
          extra.error ?? null,
          finishedAt,
          finishedAt,
          finishedAt,
          finishedAt,
        ).lastInsertRowid,
      ),
    );
  });
}
