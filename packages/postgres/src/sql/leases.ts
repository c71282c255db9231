// A worker's writes, each checked against its lease token: only the current holder may complete,
// fail, extend or log for a task; a late answer after the lease was lost changes nothing. Each is
// one statement for the whole batch.
import type { Failure, Lease, LogLevel, TaskStatus } from "@queue/core";
import type { Db } from "../db.js";
import { CHANGE_STAMP } from "./stamp.js";

/** Records many successes in one statement; returns the ids recorded (a lost lease is left out, unchanged). */
export async function completeLeased(
  db: Db,
  completions: readonly { readonly lease: Lease; readonly result: string }[],
  now: number,
): Promise<Set<number>> {
  if (completions.length === 0) return new Set();
  const rows = await db.rows<{ id: number }>(
    `UPDATE ${db.schema}.tasks AS t SET status = 'completed', result = c.result, progress = coalesce(t.progress, 1),
       finished_at = $4, updated_at = $4, change_seq = ${CHANGE_STAMP}, lease_token = NULL, lease_until = NULL, locked_by = NULL,
       cancel_requested = 0
     FROM unnest($1::bigint[], $2::text[], $3::text[]) AS c(id, token, result)
     WHERE t.id = c.id AND t.lease_token = c.token AND t.status = 'leased'
     RETURNING t.id`,
    [
      completions.map(({ lease }) => lease.taskId),
      completions.map(({ lease }) => lease.token),
      completions.map(({ result }) => result),
      now,
    ],
  );
  return new Set(rows.map((row) => row.id));
}

/** One lease to end without success (see core's LeaseRelease). */
export interface Release {
  readonly lease: Lease;
  readonly status: "queued" | "dead_letter" | "cancelled";
  readonly error: string | null;
  readonly runAfter: number | null;
  readonly refundAttempt: boolean;
}

/** A failure as the release it makes: a retry or release goes back to the queue; a release gives its attempt back. */
export function releaseOf(lease: Lease, failure: Failure, now: number): Release {
  return {
    lease,
    status: failure.outcome === "retry" || failure.outcome === "release" ? "queued" : failure.outcome,
    error: failure.error,
    runAfter: failure.runAfter ?? now,
    refundAttempt: failure.outcome === "release",
  };
}

/**
 * Ends many leases without success in one statement. A cancel requested meanwhile wins over going
 * back to the queue. Answers, per release in order, the status its task ended in, or null when its
 * token no longer held the lease (nothing changed).
 */
export async function releaseLeased(db: Db, releases: readonly Release[], now: number): Promise<(TaskStatus | null)[]> {
  if (releases.length === 0) return [];
  const rows = await db.rows<{ ord: number; status: TaskStatus }>(
    `UPDATE ${db.schema}.tasks AS t SET
       status = CASE WHEN t.cancel_requested = 1 AND r.status = 'queued' THEN 'cancelled' ELSE r.status END,
       finished_at = CASE WHEN r.status = 'queued' AND t.cancel_requested = 0 THEN NULL ELSE $7::bigint END,
       error = coalesce(r.error, t.error), run_after = coalesce(r.run_after, t.run_after), attempts = t.attempts - r.refund,
       updated_at = $7::bigint, change_seq = ${CHANGE_STAMP}, lease_token = NULL, lease_until = NULL, locked_by = NULL, cancel_requested = 0
     FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[]) WITH ORDINALITY
       AS r(id, token, status, error, run_after, refund, ord)
     WHERE t.id = r.id AND t.lease_token = r.token AND t.status = 'leased'
     RETURNING r.ord, t.status`,
    [
      releases.map((release) => release.lease.taskId),
      releases.map((release) => release.lease.token),
      releases.map((release) => release.status),
      releases.map((release) => release.error),
      releases.map((release) => release.runAfter),
      releases.map((release) => (release.refundAttempt ? 1 : 0)),
      now,
    ],
  );
  const ended: (TaskStatus | null)[] = releases.map(() => null);
  for (const row of rows) ended[row.ord - 1] = row.status;
  return ended;
}

export interface RenewedLease {
  readonly id: number;
  readonly lease_token: string;
  readonly cancel_requested: number;
}

/** Extends every lease in `tokens` that `workerId` still holds; tokens missing from the answer were lost. */
export async function renewLeases(
  db: Db,
  workerId: string,
  tokens: readonly string[],
  leaseUntil: number,
  now: number,
): Promise<RenewedLease[]> {
  return db.rows<RenewedLease>(
    `UPDATE ${db.schema}.tasks SET lease_until = greatest(lease_until, $3), updated_at = $4, change_seq = ${CHANGE_STAMP}
     WHERE status = 'leased' AND locked_by = $1 AND lease_token = ANY($2::text[])
     RETURNING id, lease_token, cancel_requested`,
    [workerId, tokens, leaseUntil, now],
  );
}

/** Appends a line to a task's log only while `lease` holds it; false (nothing written) otherwise. */
export async function insertLeasedTaskLog(
  db: Db,
  lease: Lease,
  level: LogLevel,
  message: string,
  details: string | null,
  now: number,
): Promise<boolean> {
  const rows = await db.rows(
    `INSERT INTO ${db.schema}.task_logs (task_id, at, level, message, details)
     SELECT $1, $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM ${db.schema}.tasks WHERE id = $1 AND lease_token = $6 AND status = 'leased')
     RETURNING id`,
    [lease.taskId, now, level, message, details, lease.token],
  );
  return rows.length === 1;
}
