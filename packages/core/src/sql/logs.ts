import type { QueueDatabase } from "../database.js";
import { TASK_LOG_COLUMNS, type TaskLogRow } from "../models/task-log-row.js";
import type { LogLevel } from "../types.js";

/**
 * Adds a log line for a task only while `token` holds its lease; returns whether it was written.
 * A handler whose lease was lost must not write into the log of the attempt that replaced it.
 */
export function insertLeasedTaskLog(
  db: QueueDatabase,
  lease: { readonly taskId: number; readonly token: string },
  level: LogLevel,
  message: string,
  details: string | null,
  now: number,
): boolean {
  return (
    db
      .statement(
        `INSERT INTO task_logs (task_id, at, level, message, details)
         SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tasks WHERE id = ? AND lease_token = ? AND status = 'leased')`,
      )
      .run(lease.taskId, now, level, message, details, lease.taskId, lease.token).changes === 1
  );
}

export function insertTaskLog(
  db: QueueDatabase,
  taskId: number,
  level: LogLevel,
  message: string,
  details: string | null,
  now: number,
): number {
  return Number(
    db
      .statement("INSERT INTO task_logs (task_id, at, level, message, details) VALUES (?, ?, ?, ?, ?)")
      .run(taskId, now, level, message, details).lastInsertRowid,
  );
}

/** A task's log lines, oldest first. */
export function selectTaskLogs(db: QueueDatabase, taskId: number, limit = 1_000): TaskLogRow[] {
  return db.statement<TaskLogRow>(`SELECT ${TASK_LOG_COLUMNS} FROM task_logs WHERE task_id = ? ORDER BY id LIMIT ?`).all(taskId, limit);
}

/** The newest log lines of any task, newest first, optionally of some levels only. */
export function selectRecentTaskLogs(db: QueueDatabase, limit: number, levels?: readonly LogLevel[]): TaskLogRow[] {
  if (levels === undefined) {
    return db.statement<TaskLogRow>(`SELECT ${TASK_LOG_COLUMNS} FROM task_logs ORDER BY id DESC LIMIT ?`).all(limit);
  }
  return db
    .statement<TaskLogRow>(
      `SELECT ${TASK_LOG_COLUMNS} FROM task_logs WHERE level IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT ?`,
    )
    .all(JSON.stringify(levels), limit);
}

/** Deletes up to `limit` log lines written before `before`; returns how many. Call in a loop of short transactions. */
export function deleteTaskLogsBefore(db: QueueDatabase, before: number, limit: number): number {
  return db
    .statement("DELETE FROM task_logs WHERE id IN (SELECT id FROM task_logs INDEXED BY task_logs_by_time WHERE at < ? ORDER BY at LIMIT ?)")
    .run(before, limit).changes;
}
