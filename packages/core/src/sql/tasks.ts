// Every statement that reads or changes tasks, for the SQLite backend. Functions are synchronous
// and expect to run inside a QueueDatabase transaction (or read) where they change several rows.

import type { QueueDatabase } from "../database.js";
import { describeValue, QueueError } from "../errors.js";
import { TASK_COLUMNS, type TaskRow } from "../models/task-row.js";
import type { TaskListQuery } from "../store/port.js";
import type { TaskStatus } from "../types.js";
import { type ClaimedValues, COUNT_BY_STATUS_SQL } from "./claim.js";

/** A task as the producer describes it, already validated and serialised. */
export interface NewTaskRow {
  readonly type: string;
  readonly payload: string;
  readonly priority: number;
  readonly runAfter: number;
  readonly maxAttempts: number;
  readonly idempotencyKey: string | null;
  readonly timeoutMs: number | null;
  /** JSON array text, or null when the task needs no capability. */
  readonly requiredCapabilities: string | null;
  /** W3C traceparent of the enqueuing span, or null. */
  readonly traceParent: string | null;
}

// Positional parameters and no RETURNING: on a batch of small tasks, RETURNING every column costs
// more than half the insert throughput. The stored row is rebuilt from what was written instead.
const INSERT_TASK = `INSERT INTO tasks
  (type, payload, priority, run_after, max_attempts, idempotency_key, timeout_ms, required_capabilities, trace_parent, created_at, updated_at, change_seq)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`;
const SELECT_BY_KEY = `SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key = ?`;
const SELECT_BY_ID = `SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`;

/**
 * Inserts a task; when its idempotency key is already taken, returns the existing task instead
 * (`created: false`) and writes nothing.
 */
export function insertTask(db: QueueDatabase, task: NewTaskRow, now: number): { row: TaskRow; created: boolean } {
  const inserted = insertTaskId(db, task, now);
  return typeof inserted === "number" ? { row: newTaskRow(inserted, task, now), created: true } : { row: inserted, created: false };
}

/**
 * Like `insertTask`, for callers that rebuild the new row only if they need it: the new task's id,
 * or (its idempotency key being taken) the existing row.
 */
export function insertTaskId(db: QueueDatabase, task: NewTaskRow, now: number): number | TaskRow {
  const { changes, lastInsertRowid } = db
    .statement(INSERT_TASK)
    .run(
      task.type,
      task.payload,
      task.priority,
      task.runAfter,
      task.maxAttempts,
      task.idempotencyKey,
      task.timeoutMs,
      task.requiredCapabilities,
      task.traceParent,
      now,
      now,
      db.changeSeq(),
    );
  if (changes === 1) return Number(lastInsertRowid);
  const existing = db.statement<TaskRow>(SELECT_BY_KEY).get(task.idempotencyKey);
  if (existing === undefined) throw new Error(`insertTask: conflict on idempotency key ${task.idempotencyKey} but no row found`);
  return existing;
}

/** The row a fresh insert of `task` stored: the written values plus the column defaults. */
export function newTaskRow(id: number, task: NewTaskRow, now: number): TaskRow {
  return {
    id,
    type: task.type,
    priority: task.priority,
    payload: task.payload,
    status: "queued",
    attempts: 0,
    max_attempts: task.maxAttempts,
    run_after: task.runAfter,
    lease_until: null,
    lease_token: null,
    locked_by: null,
    idempotency_key: task.idempotencyKey,
    timeout_ms: task.timeoutMs,
    required_capabilities: task.requiredCapabilities,
    cancel_requested: 0,
    error: null,
    result: null,
    progress: null,
    created_at: now,
    updated_at: now,
    started_at: null,
    finished_at: null,
    trace_parent: task.traceParent,
  };
}

export function selectTask(db: QueueDatabase, id: number): TaskRow | undefined {
  return db.statement<TaskRow>(SELECT_BY_ID).get(id);
}

/** The tasks stored under these idempotency keys (by the unique key index). */
export function selectTasksByIdempotencyKeys(db: QueueDatabase, keys: readonly string[]): TaskRow[] {
  return db
    .statement<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE idempotency_key IN (SELECT value FROM json_each(?))`)
    .all(JSON.stringify(keys));
}

/** A page of tasks, as the storage port asks for it. */
export type ListTasksQuery = TaskListQuery;

/**
 * Where a list of one status reads its tasks: the partial index that holds exactly them (then
 * sorted by id), so a page of a rare status never walks the whole table. Completed tasks are most
 * of a table: walking it by id finds a page of them at once.
 */
const LIST_SOURCES: Record<TaskStatus, { readonly from: string; readonly where: string }> = {
  queued: { from: "tasks INDEXED BY tasks_queued_by_run_after", where: "status = 'queued'" },
  leased: { from: "tasks INDEXED BY tasks_leased_by_expiry", where: "status = 'leased'" },
  dead_letter: { from: "tasks INDEXED BY tasks_dead_letter_by_type", where: "status = 'dead_letter'" },
  cancelled: { from: "tasks INDEXED BY tasks_finished_by_time", where: "status = 'cancelled' AND finished_at IS NOT NULL" },
  completed: { from: "tasks", where: "status = 'completed'" },
};

export function listTasks(db: QueueDatabase, query: ListTasksQuery): TaskRow[] {
  if (query.status !== undefined && !Object.hasOwn(LIST_SOURCES, query.status)) {
    throw new QueueError(
      "INVALID_ARGUMENT",
      `Unknown task status ${describeValue(query.status)}; use one of ${Object.keys(LIST_SOURCES).join(", ")}.`,
    );
  }
  const source = query.status === undefined ? undefined : LIST_SOURCES[query.status];
  const where: string[] = source === undefined ? [] : [source.where];
  if (query.type !== undefined) where.push("type = :type");
  if (query.afterId !== undefined) where.push(query.order === "newest" ? "id < :afterId" : "id > :afterId");
  const sql = `SELECT ${TASK_COLUMNS} FROM ${source?.from ?? "tasks"} ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
    ORDER BY id ${query.order === "newest" ? "DESC" : "ASC"} LIMIT :limit`;
  return db.statement<TaskRow>(sql).all({ type: query.type, afterId: query.afterId, limit: query.limit });
}

/**
 * Queued and leased tasks whose type starts with `typePrefix`, oldest first, read from the two
 * partial indexes that hold them, never from the whole table.
 */
export function listUnfinishedTasks(db: QueueDatabase, typePrefix = ""): TaskRow[] {
  // A prefix test, not a range: no upper bound sorts after every type that starts with the prefix.
  const types = "substr(type, 1, length(:prefix)) = :prefix";
  return db
    .statement<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY tasks_queued_by_run_after WHERE status = 'queued' AND ${types}
       UNION ALL SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY tasks_leased_by_expiry WHERE status = 'leased' AND ${types}
       ORDER BY id`,
    )
    .all({ prefix: typePrefix });
}

/** Task counts per status (all statuses present, zero when none). */
export function countTasksByStatus(db: QueueDatabase): Record<TaskStatus, number> {
  const counts: Record<TaskStatus, number> = { queued: 0, leased: 0, completed: 0, dead_letter: 0, cancelled: 0 };
  for (const row of db.statement<{ status: TaskStatus; count: number }>(COUNT_BY_STATUS_SQL).all()) {
    counts[row.status] = row.count;
  }
  return counts;
}

/** Cancels a queued task at once; returns the updated row, or undefined when it was not queued. */
export function cancelQueuedTask(db: QueueDatabase, id: number, now: number): TaskRow | undefined {
  return db
    .statement<TaskRow>(
      `UPDATE tasks SET status = 'cancelled', finished_at = :now, updated_at = :now, change_seq = :seq
       WHERE id = :id AND status = 'queued' RETURNING ${TASK_COLUMNS}`,
    )
    .get({ id, now, seq: db.changeSeq() });
}

/** Marks a leased task for cancellation; its worker aborts the handler at its next heartbeat. */
export function requestCancelLeasedTask(db: QueueDatabase, id: number, now: number): TaskRow | undefined {
  return db
    .statement<TaskRow>(
      `UPDATE tasks SET cancel_requested = 1, updated_at = :now, change_seq = :seq
       WHERE id = :id AND status = 'leased' RETURNING ${TASK_COLUMNS}`,
    )
    .get({ id, now, seq: db.changeSeq() });
}

/** Sends a dead-lettered task back to the queue with its attempts reset. */
export function retryDeadLetterTask(db: QueueDatabase, id: number, now: number): TaskRow | undefined {
  return db
    .statement<TaskRow>(
      `UPDATE tasks SET status = 'queued', attempts = 0, run_after = :now, finished_at = NULL, cancel_requested = 0, updated_at = :now,
         change_seq = :seq
       WHERE id = :id AND status = 'dead_letter' RETURNING ${TASK_COLUMNS}`,
    )
    .get({ id, now, seq: db.changeSeq() });
}

export const RECOVER_EXPIRED_LEASES_SQL = `UPDATE tasks INDEXED BY tasks_leased_by_expiry SET
    status = CASE WHEN cancel_requested = 1 THEN 'cancelled' WHEN attempts >= max_attempts THEN 'dead_letter' ELSE 'queued' END,
    error = json_object('name', 'LeaseExpired', 'message',
      'The worker ' || coalesce(locked_by, '?') || ' stopped renewing its lease (it died, stalled or lost the database)'),
    finished_at = CASE WHEN cancel_requested = 1 OR attempts >= max_attempts THEN :now ELSE NULL END,
    run_after = :now, lease_token = NULL, lease_until = NULL, locked_by = NULL, updated_at = :now, change_seq = :seq
  WHERE status = 'leased' AND lease_until <= :now
  RETURNING ${TASK_COLUMNS}`;

/**
 * Recovers tasks whose lease expired (their worker died or stalled): back to the queue, or to
 * dead_letter when that was the last attempt, or to cancelled when a cancel was pending. Cheap when
 * nothing expired (an index range scan that finds nothing).
 */
export function recoverExpiredLeases(db: QueueDatabase, now: number): TaskRow[] {
  return db.statement<TaskRow>(RECOVER_EXPIRED_LEASES_SQL).all({ now, seq: db.changeSeq() });
}

/** Runs a claim statement built by `buildClaimSql`; decode each row with `claimedTask` (or rebuild the stored row with `claimedTaskRow`). */
export function claimTasks(db: QueueDatabase, sql: string, params: Record<string, unknown>): ClaimedValues[] {
  return db.rawStatement<ClaimedValues>(sql).all({ ...params, seq: db.changeSeq() });
}

/** One success to record: the task, the lease token its worker holds, and the result as JSON text. */
export interface Completion {
  readonly id: number;
  readonly token: string;
  readonly result: string;
}

/**
 * Records many successes in one statement (each row found by primary key); returns the ids
 * recorded. A task whose token no longer holds its lease is left unchanged and not returned.
 */
export function completeLeasedTasks(db: QueueDatabase, completions: readonly Completion[], now: number): Set<number> {
  if (completions.length === 0) return new Set();
  const batch = JSON.stringify(completions.map((completion) => [completion.id, completion.token, completion.result]));
  const rows = db
    .statement<{ id: number }>(
      `UPDATE tasks NOT INDEXED SET status = 'completed', result = c.value ->> 2, progress = coalesce(progress, 1),
         finished_at = :now, updated_at = :now, change_seq = :seq, lease_token = NULL, lease_until = NULL, locked_by = NULL,
         cancel_requested = 0
       FROM json_each(:batch) AS c
       WHERE tasks.id = c.value ->> 0 AND tasks.lease_token = c.value ->> 1 AND tasks.status = 'leased'
       RETURNING tasks.id`,
    )
    .all({ batch, now, seq: db.changeSeq() });
  return new Set(rows.map((row) => row.id));
}

export interface LeaseRelease {
  readonly id: number;
  readonly token: string;
  /** queued (retry later, or released on shutdown), dead_letter or cancelled. */
  readonly status: "queued" | "dead_letter" | "cancelled";
  /** JSON of the TaskError, or null (a release on shutdown records none). */
  readonly error: string | null;
  /** When a queued task may run again. */
  readonly runAfter: number;
  /** Give the attempt back (the handler was interrupted by shutdown, not failed). */
  readonly refundAttempt: boolean;
}

/**
 * How a lease ends without success: a cancel requested meanwhile wins over going back to the
 * queue. `:runAfter` null keeps the task's place; `:unstart` 1 forgets a start whose attempt was
 * given back and was its only one.
 */
const RELEASE_SET = `status = CASE WHEN cancel_requested = 1 AND :status = 'queued' THEN 'cancelled' ELSE :status END,
         finished_at = CASE WHEN :status = 'queued' AND cancel_requested = 0 THEN NULL ELSE :now END,
         error = coalesce(:error, error), run_after = coalesce(:runAfter, run_after), attempts = attempts - :refund,
         started_at = CASE WHEN :unstart = 1 AND attempts - :refund = 0 THEN NULL ELSE started_at END, updated_at = :now,
         change_seq = :seq, lease_token = NULL, lease_until = NULL, locked_by = NULL, cancel_requested = 0`;

/**
 * Ends a lease without success. A cancel requested meanwhile wins over going back to the queue:
 * the task ends cancelled instead. Returns the status the task ended in, or undefined when `token`
 * no longer holds the lease (nothing changes then).
 */
export function releaseLeasedTask(db: QueueDatabase, release: LeaseRelease, now: number): TaskStatus | undefined {
  return db
    .statement<{ status: TaskStatus }>(
      `UPDATE tasks SET ${RELEASE_SET} WHERE id = :id AND lease_token = :token AND status = 'leased' RETURNING status`,
    )
    .get({
      id: release.id,
      token: release.token,
      status: release.status,
      error: release.error,
      runAfter: release.runAfter,
      refund: release.refundAttempt ? 1 : 0,
      unstart: 0,
      now,
      seq: db.changeSeq(),
    })?.status;
}

/**
 * Puts every task still leased under `token` (one claim's lease) back in the queue as the claim
 * found it: in its place, its attempt given back, and without a start if it had no attempt before
 * (or cancelled, if a cancel was requested meanwhile). For a claim whose answer never reached its
 * worker, so nothing ran. Returns the ids released.
 */
export function releaseClaim(db: QueueDatabase, token: string, now: number): number[] {
  return db
    .statement<{ id: number }>(`UPDATE tasks SET ${RELEASE_SET} WHERE lease_token = :token AND status = 'leased' RETURNING id`)
    .all({ token, status: "queued", error: null, runAfter: null, refund: 1, unstart: 1, now, seq: db.changeSeq() })
    .map((row) => row.id);
}

/** What a lease renewal learned about one task. */
export interface RenewedLease {
  readonly id: number;
  readonly lease_token: string;
  readonly cancel_requested: number;
}

/**
 * Extends every lease in `tokens` (JSON array text) that `workerId` still holds. Tokens missing
 * from the answer were lost; `cancel_requested` says a cancel is waiting.
 */
export function renewLeases(db: QueueDatabase, workerId: string, tokens: string, leaseUntil: number, now: number): RenewedLease[] {
  return db
    .statement<RenewedLease>(
      `UPDATE tasks SET lease_until = max(lease_until, :leaseUntil), updated_at = :now, change_seq = :seq
       WHERE status = 'leased' AND locked_by = :workerId AND lease_token IN (SELECT value FROM json_each(:tokens))
       RETURNING id, lease_token, cancel_requested`,
    )
    .all({ workerId, tokens, leaseUntil, now, seq: db.changeSeq() });
}

/** Stores a running task's progress; false when the lease was lost. */
export function setTaskProgress(db: QueueDatabase, id: number, token: string, progress: number, now: number): boolean {
  return (
    db
      .statement(
        "UPDATE tasks SET progress = :progress, updated_at = :now, change_seq = :seq WHERE id = :id AND lease_token = :token AND status = 'leased'",
      )
      .run({ id, token, progress, now, seq: db.changeSeq() }).changes === 1
  );
}

export const NEXT_DUE_TIME_SQL = `SELECT
    (SELECT min(run_after) FROM tasks INDEXED BY tasks_queued_by_run_after WHERE status = 'queued' AND run_after > :now) AS queued,
    (SELECT min(lease_until) FROM tasks INDEXED BY tasks_leased_by_expiry WHERE status = 'leased' AND lease_until > :now) AS leased`;

/**
 * The next time after `now` that something becomes claimable without any new write: a delayed task
 * or a lease expiring. Times already past are skipped: what is due now and still queued is a task
 * the caller could not take (paused, another type), and must not hide the next time to come.
 */
export function nextDueTime(db: QueueDatabase, now: number = db.clock.now()): number | null {
  const row = db.statement<{ queued: number | null; leased: number | null }>(NEXT_DUE_TIME_SQL).get({ now });
  const times = [row?.queued, row?.leased].filter((time): time is number => typeof time === "number");
  return times.length === 0 ? null : Math.min(...times);
}
