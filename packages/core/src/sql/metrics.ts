// Read-only statements behind the metrics. Each reads an index range, never the whole table, so
// they stay fast on a file holding millions of finished tasks (checked by EXPLAIN QUERY PLAN tests).
import type { QueueDatabase } from "../database.js";

/** Counts of tasks still in the queue (queued or leased), by type. */
export function countActiveByType(db: QueueDatabase): { type: string; status: "queued" | "leased"; count: number }[] {
  return db
    .statement<{ type: string; status: "queued" | "leased"; count: number }>(
      `SELECT type, 'queued' AS status, count(*) AS count FROM tasks INDEXED BY tasks_queued_by_run_after WHERE status = 'queued' GROUP BY type
       UNION ALL SELECT type, 'leased', count(*) FROM tasks INDEXED BY tasks_leased_by_expiry WHERE status = 'leased' GROUP BY type
       ORDER BY type, status`,
    )
    .all();
}

/** When the task that has been runnable longest became runnable; null when none is waiting. */
export function oldestRunnableSince(db: QueueDatabase, now: number): number | null {
  return (
    db
      .statement<{ since: number | null }>(
        "SELECT min(run_after) AS since FROM tasks INDEXED BY tasks_queued_by_run_after WHERE status = 'queued' AND run_after <= ?",
      )
      .get(now)?.since ?? null
  );
}

/** Tasks that reached each final status at or after `since`. */
export function countFinishedSince(db: QueueDatabase, since: number): Record<"completed" | "dead_letter" | "cancelled", number> {
  const counts = { completed: 0, dead_letter: 0, cancelled: 0 };
  const rows = db
    .statement<{ status: keyof typeof counts; count: number }>(
      `SELECT status, count(*) AS count FROM tasks INDEXED BY tasks_finished_by_time
       WHERE status IN ('completed', 'dead_letter', 'cancelled') AND finished_at >= ? GROUP BY status`,
    )
    .all(since);
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

/** Attempts beyond the first, summed over tasks finished at or after `since`. */
export function countRetriesSince(db: QueueDatabase, since: number): number {
  return (
    db
      .statement<{ retries: number | null }>(
        `SELECT sum(max(attempts - 1, 0)) AS retries FROM tasks INDEXED BY tasks_finished_by_time
         WHERE status IN ('completed', 'dead_letter') AND finished_at >= ?`,
      )
      .get(since)?.retries ?? 0
  );
}

/**
 * Wait (runnable -> started) and run (started -> finished) times of the most recently completed
 * tasks since `since`, newest first, at most `limit` of them: percentiles over a bounded sample.
 */
export function recentTimings(db: QueueDatabase, since: number, limit: number): { wait: number; run: number }[] {
  return db
    .statement<{ wait: number; run: number }>(
      `SELECT max(started_at - run_after, 0) AS wait, finished_at - started_at AS run FROM tasks INDEXED BY tasks_finished_by_time
       WHERE status = 'completed' AND finished_at >= ? AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT ?`,
    )
    .all(since, limit);
}

/** Leased tasks per worker id. */
export function leasedByWorker(db: QueueDatabase): Map<string, number> {
  const rows = db
    .statement<{ worker: string; count: number }>(
      "SELECT locked_by AS worker, count(*) AS count FROM tasks INDEXED BY tasks_leased_by_expiry WHERE status = 'leased' GROUP BY locked_by",
    )
    .all();
  return new Map(rows.map((row) => [row.worker, row.count]));
}

/** Leases that expired before `now` and have not been recovered yet (their workers stopped renewing). */
export function countExpiredLeases(db: QueueDatabase, now: number): number {
  return (
    db
      .statement<{ count: number }>(
        "SELECT count(*) AS count FROM tasks INDEXED BY tasks_leased_by_expiry WHERE status = 'leased' AND lease_until <= ?",
      )
      .get(now)?.count ?? 0
  );
}
