import type { QueueDatabase } from "../database.js";
import { TASK_LOG_COLUMNS, type TaskLogRow } from "../models/task-log-row.js";
import type { LogLevel } from "../types.js";

export function insertTaskLog(
  db: QueueDatabase,
  taskId: number,
  level: LogLevel,
  message: string,
  details: string | null,
  now: number,
): void {
  db.statement("INSERT INTO task_logs (task_id, at, level, message, details) VALUES (?, ?, ?, ?, ?)").run(
    taskId,
    now,
    level,
    message,
    details,
  );
}

export function selectTaskLogs(db: QueueDatabase, taskId: number): TaskLogRow[] {
  return db.statement<TaskLogRow>(`SELECT ${TASK_LOG_COLUMNS} FROM task_logs WHERE task_id = ? ORDER BY id`).all(taskId);
}
