import type { LogLevel, TaskLog } from "../types.js";
import { dateFromMillis, parseJsonColumn } from "./json.js";

/** A `task_logs` row exactly as SQLite returns it. */
export interface TaskLogRow {
  id: number;
  task_id: number;
  at: number;
  level: LogLevel;
  message: string;
  details: string | null;
}

export const TASK_LOG_COLUMNS = "id, task_id, at, level, message, details";

/** The fields of a TaskLogRow, in TASK_LOG_COLUMNS order. */
export const TASK_LOG_ROW_FIELDS: readonly (keyof TaskLogRow)[] = Object.freeze(
  TASK_LOG_COLUMNS.split(",").map((column) => column.trim() as keyof TaskLogRow),
);

export function taskLogFromRow(row: TaskLogRow): TaskLog {
  return Object.freeze({
    id: row.id,
    taskId: row.task_id,
    at: dateFromMillis(row.at),
    level: row.level,
    message: row.message,
    details: parseJsonColumn(row.details, "task_logs.details", row.id),
  });
}
