// Statements behind maintenance: each batch statement touches at most `limit` rows, so callers can
// run it in a loop of short transactions and never hold the write lock for long.
import type { QueueDatabase } from "../database.js";
import { TASK_LOG_COLUMNS, type TaskLogRow } from "../models/task-log-row.js";
import { TASK_COLUMNS, type TaskRow } from "../models/task-row.js";

export type FinishedStatus = "completed" | "dead_letter" | "cancelled";

/**
 * Up to `limit` tasks in a final status that finished before `before`, oldest first. The task with
 * the highest id is never selected: SQLite hands out max(id) + 1 to the next insert, so keeping it
 * means a task id is never reused after cleanup.
 */
export function selectFinishedBefore(db: QueueDatabase, status: FinishedStatus, before: number, limit: number): TaskRow[] {
  return db
    .statement<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY tasks_finished_by_time
       WHERE status = ? AND finished_at < ? AND id < (SELECT max(id) FROM tasks) ORDER BY finished_at LIMIT ?`,
    )
    .all(status, before, limit);
}

export function selectLogsOfTask(db: QueueDatabase, taskId: number): TaskLogRow[] {
  return db.statement<TaskLogRow>(`SELECT ${TASK_LOG_COLUMNS} FROM task_logs WHERE task_id = ? ORDER BY id`).all(taskId);
}

/**
 * Before tasks are deleted: the change sequence's floor rises to the highest number stamped, so
 * that deleting the task that holds it never lets the next write stamp the same number again.
 */
export function raiseChangeFloor(db: QueueDatabase): void {
  db.statement(
    "UPDATE queue_change_floor SET seq = max(seq, (SELECT coalesce(max(change_seq), 0) FROM tasks INDEXED BY tasks_by_change)) WHERE id = 1",
  ).run();
}

/** Deletes the task if it is still queued (not claimed meanwhile); true when it was. */
export function deleteQueuedTask(db: QueueDatabase, id: number): boolean {
  return deleteQueuedTasks(db, [id]).length === 1;
}

/**
 * Deletes those of the tasks that are still queued (not claimed, finished or cancelled meanwhile),
 * their logs with them (by foreign key); returns the ids deleted, in the order given.
 */
export function deleteQueuedTasks(db: QueueDatabase, ids: readonly number[]): number[] {
  if (ids.length === 0) return [];
  raiseChangeFloor(db);
  const deleted = new Set(
    db
      .statement<{ id: number }>("DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?)) AND status = 'queued' RETURNING id")
      .all(JSON.stringify(ids))
      .map((row) => row.id),
  );
  return ids.filter((id) => deleted.has(id));
}

/** Deletes tasks by id (their logs go with them, by foreign key); returns how many. */
export function deleteTasks(db: QueueDatabase, ids: readonly number[]): number {
  if (ids.length === 0) return 0;
  raiseChangeFloor(db);
  return db.statement("DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))").run(JSON.stringify(ids)).changes;
}

/**
 * Deletes finished tasks (completed, dead-lettered, cancelled) by id, with their logs, but never
 * the newest task: SQLite would give its id to the next task, and an id must name one task only.
 */
export function deleteFinishedTasks(db: QueueDatabase, ids: readonly number[]): number {
  if (ids.length === 0) return 0;
  raiseChangeFloor(db);
  return db
    .statement(
      `DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?)) AND status IN ('completed', 'dead_letter', 'cancelled')
         AND id < (SELECT max(id) FROM tasks)`,
    )
    .run(JSON.stringify(ids)).changes;
}

/** Copies finished tasks (with their logs as JSON) into the archive table; returns how many. */
export function archiveTasks(db: QueueDatabase, ids: readonly number[], now: number): number {
  if (ids.length === 0) return 0;
  return db
    .statement(
      `INSERT OR REPLACE INTO tasks_archive (id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key,
         timeout_ms, required_capabilities, error, result, progress, created_at, updated_at, started_at, finished_at, logs, archived_at)
       SELECT t.id, t.type, t.priority, t.payload, t.status, t.attempts, t.max_attempts, t.run_after, t.idempotency_key,
         t.timeout_ms, t.required_capabilities, t.error, t.result, t.progress, t.created_at, t.updated_at, t.started_at, t.finished_at,
         (SELECT json_group_array(json_object('at', l.at, 'level', l.level, 'message', l.message, 'details', json(l.details)))
            FROM task_logs AS l WHERE l.task_id = t.id),
         ?
       FROM tasks AS t WHERE t.id IN (SELECT value FROM json_each(?)) AND t.status IN ('completed', 'dead_letter', 'cancelled')`,
    )
    .run(now, JSON.stringify(ids)).changes;
}

/** An archived task row: a task's final columns plus its logs (JSON) and when it was archived. */
export interface ArchivedTaskRow extends Omit<TaskRow, "lease_until" | "lease_token" | "locked_by" | "cancel_requested"> {
  readonly logs: string | null;
  readonly archived_at: number;
}

/** The fields of an ArchivedTaskRow that every backend's archive stores, in its column order. */
export const ARCHIVED_TASK_FIELDS: readonly (keyof ArchivedTaskRow)[] = Object.freeze(
  (
    "id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key, timeout_ms, required_capabilities, " +
    "error, result, progress, created_at, updated_at, started_at, finished_at, logs, archived_at"
  )
    .split(",")
    .map((column) => column.trim() as keyof ArchivedTaskRow),
);

/** Every task in the file, whatever its status. */
export function countTasks(db: QueueDatabase): number {
  return db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks").get()?.n ?? 0;
}

export function countArchived(db: QueueDatabase): number {
  return db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks_archive").get()?.n ?? 0;
}

export function selectArchived(db: QueueDatabase, afterId: number, limit: number): ArchivedTaskRow[] {
  return db.statement<ArchivedTaskRow>("SELECT * FROM tasks_archive WHERE id > ? ORDER BY id LIMIT ?").all(afterId, limit);
}

/** Dead-lettered tasks grouped by error name and message, largest group first. */
export function summarizeDeadLetters(
  db: QueueDatabase,
  type: string | undefined,
): { type: string; error_name: string | null; error_message: string | null; count: number; first_id: number; last_finished_at: number }[] {
  return db
    .statement<{
      type: string;
      error_name: string | null;
      error_message: string | null;
      count: number;
      first_id: number;
      last_finished_at: number;
    }>(
      `SELECT type, error ->> '$.name' AS error_name, error ->> '$.message' AS error_message, count(*) AS count, min(id) AS first_id,
         max(finished_at) AS last_finished_at
       FROM tasks INDEXED BY tasks_dead_letter_by_type WHERE status = 'dead_letter' AND (:type IS NULL OR type = :type)
       GROUP BY type, error_name, error_message ORDER BY count DESC, type`,
    )
    .all({ type: type ?? null });
}

/** Sends up to `limit` dead-lettered tasks (of one type, or all) back to the queue; returns their ids. */
export function retryDeadLetters(db: QueueDatabase, type: string | undefined, limit: number, now: number): number[] {
  return db
    .statement<{ id: number }>(
      `UPDATE tasks SET status = 'queued', attempts = 0, run_after = :now, finished_at = NULL, cancel_requested = 0, updated_at = :now,
         change_seq = :seq
       WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_dead_letter_by_type WHERE status = 'dead_letter' AND (:type IS NULL OR type = :type) LIMIT :limit)
       RETURNING id`,
    )
    .all({ now, type: type ?? null, limit, seq: db.changeSeq() })
    .map((row) => row.id);
}

/** Deletes up to `limit` dead-lettered tasks (of one type, or all; never the highest id); returns how many. */
export function purgeDeadLetters(db: QueueDatabase, type: string | undefined, limit: number): number {
  raiseChangeFloor(db);
  return db
    .statement(
      `DELETE FROM tasks WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_dead_letter_by_type
         WHERE status = 'dead_letter' AND (:type IS NULL OR type = :type) AND id < (SELECT max(id) FROM tasks) LIMIT :limit)`,
    )
    .run({ type: type ?? null, limit }).changes;
}

/** Removes workers whose heartbeat is older than `before`; returns their ids. */
export function deleteStaleWorkers(db: QueueDatabase, before: number): string[] {
  return db
    .statement<{ id: string }>("DELETE FROM workers WHERE heartbeat_at < ? RETURNING id")
    .all(before)
    .map((row) => row.id);
}

export function recordMaintenanceRun(db: QueueDatabase, job: string, now: number, result: string | null): void {
  db.statement(
    "INSERT INTO queue_maintenance (job, last_run_at, last_result) VALUES (?, ?, ?) ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at, last_result = excluded.last_result",
  ).run(job, now, result);
}

export function maintenanceRuns(db: QueueDatabase): Map<string, number> {
  const rows = db.statement<{ job: string; last_run_at: number }>("SELECT job, last_run_at FROM queue_maintenance").all();
  return new Map(rows.map((row) => [row.job, row.last_run_at]));
}

/** How many tasks in `status` finished before `before` (what a cleanup would remove). */
export function countFinishedBefore(db: QueueDatabase, status: FinishedStatus, before: number): number {
  return (
    db
      .statement<{ n: number }>(
        "SELECT count(*) AS n FROM tasks INDEXED BY tasks_finished_by_time WHERE status = ? AND finished_at < ? AND id < (SELECT max(id) FROM tasks)",
      )
      .get(status, before)?.n ?? 0
  );
}

export function countTaskLogsBefore(db: QueueDatabase, before: number): number {
  return db.statement<{ n: number }>("SELECT count(*) AS n FROM task_logs INDEXED BY task_logs_by_time WHERE at < ?").get(before)?.n ?? 0;
}

/** Puts archived tasks back into the tasks table under their ids; returns the ids restored (ids in use are skipped). */
export function restoreArchivedTasks(db: QueueDatabase, ids: readonly number[] | undefined, limit: number): number[] {
  const restored = db
    .statement<{ id: number }>(
      `INSERT INTO tasks (id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key, timeout_ms,
         required_capabilities, error, result, progress, created_at, updated_at, started_at, finished_at, change_seq)
       SELECT a.id, a.type, a.priority, a.payload, a.status, a.attempts, a.max_attempts, a.run_after,
         CASE WHEN EXISTS (SELECT 1 FROM tasks AS t WHERE t.idempotency_key = a.idempotency_key) THEN NULL ELSE a.idempotency_key END,
         a.timeout_ms, a.required_capabilities, a.error, a.result, a.progress, a.created_at, a.updated_at, a.started_at, a.finished_at,
         :seq
       FROM tasks_archive AS a
       WHERE (:ids IS NULL OR a.id IN (SELECT value FROM json_each(:ids))) AND NOT EXISTS (SELECT 1 FROM tasks AS t WHERE t.id = a.id)
       ORDER BY a.id LIMIT :limit
       RETURNING id`,
    )
    .all({ ids: ids === undefined ? null : JSON.stringify(ids), limit, seq: db.changeSeq() })
    .map((row) => row.id);
  if (restored.length > 0)
    db.statement("DELETE FROM tasks_archive WHERE id IN (SELECT value FROM json_each(?))").run(JSON.stringify(restored));
  return restored;
}
