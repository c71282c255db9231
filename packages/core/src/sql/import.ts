// Rows written exactly as another store holds them (ids, statuses, leases, times): what moving a
// queue from one backend to another needs. Never used for new work (see tasks.ts for that).
import type { QueueDatabase } from "../database.js";
import { TASK_LOG_ROW_FIELDS, type TaskLogRow } from "../models/task-log-row.js";
import { TASK_ROW_FIELDS, type TaskRow } from "../models/task-row.js";
import { ARCHIVED_TASK_FIELDS, type ArchivedTaskRow } from "./maintenance.js";

const INSERT_TASK = `INSERT INTO tasks (id, type, priority, payload, status, attempts, max_attempts, run_after, lease_until, lease_token,
    locked_by, idempotency_key, timeout_ms, required_capabilities, cancel_requested, error, result, progress, created_at, updated_at,
    started_at, finished_at, trace_parent, change_seq)
  VALUES (:id, :type, :priority, :payload, :status, :attempts, :max_attempts, :run_after, :lease_until, :lease_token,
    :locked_by, :idempotency_key, :timeout_ms, :required_capabilities, :cancel_requested, :error, :result, :progress, :created_at, :updated_at,
    :started_at, :finished_at, :trace_parent, :change_seq)`;

const INSERT_LOG =
  "INSERT INTO task_logs (id, task_id, at, level, message, details) VALUES (:id, :task_id, :at, :level, :message, :details)";

const INSERT_ARCHIVED = `INSERT INTO tasks_archive (id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key,
    timeout_ms, required_capabilities, error, result, progress, created_at, updated_at, started_at, finished_at, logs, archived_at)
  VALUES (:id, :type, :priority, :payload, :status, :attempts, :max_attempts, :run_after, :idempotency_key,
    :timeout_ms, :required_capabilities, :error, :result, :progress, :created_at, :updated_at, :started_at, :finished_at, :logs, :archived_at)`;

/** The row's own fields only (a row from another driver may carry more), each null when absent. */
function fields<Row extends object>(row: Row, names: readonly (keyof Row)[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, row[name] ?? null]));
}

/**
 * Inserts tasks under their own ids with every column as given, stamped with this transaction's
 * change number (so that a change-feed reader sees them). An id in use fails the statement.
 */
export function importTasks(db: QueueDatabase, rows: readonly TaskRow[]): void {
  if (rows.length === 0) return;
  const insert = db.statement(INSERT_TASK);
  const changeSeq = db.changeSeq();
  for (const row of rows) insert.run({ ...fields(row, TASK_ROW_FIELDS), change_seq: changeSeq });
}

/** Inserts log lines under their own ids; each one's task must already be there. */
export function importTaskLogs(db: QueueDatabase, rows: readonly TaskLogRow[]): void {
  if (rows.length === 0) return;
  const insert = db.statement(INSERT_LOG);
  for (const row of rows) insert.run(fields(row, TASK_LOG_ROW_FIELDS));
}

/** Inserts archived tasks under their own ids, as archived. */
export function importArchivedTasks(db: QueueDatabase, rows: readonly ArchivedTaskRow[]): void {
  if (rows.length === 0) return;
  const insert = db.statement(INSERT_ARCHIVED);
  for (const row of rows) insert.run(fields(row, ARCHIVED_TASK_FIELDS));
}

/** Every task's log lines after `afterId`, in id order, at most `limit`. */
export function selectTaskLogPage(db: QueueDatabase, afterId: number, limit: number): TaskLogRow[] {
  return db
    .statement<TaskLogRow>("SELECT id, task_id, at, level, message, details FROM task_logs WHERE id > ? ORDER BY id LIMIT ?")
    .all(afterId, limit);
}
