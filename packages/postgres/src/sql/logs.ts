import { type LogLevel, TASK_LOG_COLUMNS, type TaskLogRow } from "@queue/core";
import type { Db } from "../db.js";

export async function insertTaskLog(
  db: Db,
  taskId: number,
  level: LogLevel,
  message: string,
  details: string | null,
  now: number,
): Promise<number> {
  const [row] = await db.rows<{ id: number }>(
    `INSERT INTO ${db.schema}.task_logs (task_id, at, level, message, details) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [taskId, now, level, message, details],
  );
  if (row === undefined) throw new Error("insertTaskLog: no id returned");
  return row.id;
}

/** A task's log lines, oldest first. */
export async function selectTaskLogs(db: Db, taskId: number, limit = 1_000): Promise<TaskLogRow[]> {
  return db.rows<TaskLogRow>(`SELECT ${TASK_LOG_COLUMNS} FROM ${db.schema}.task_logs WHERE task_id = $1 ORDER BY id LIMIT $2`, [
    taskId,
    limit,
  ]);
}

/** The log lines of several tasks, each task's oldest first. */
export async function selectLogsOfTasks(db: Db, taskIds: readonly number[]): Promise<TaskLogRow[]> {
  if (taskIds.length === 0) return [];
  return db.rows<TaskLogRow>(
    `SELECT ${TASK_LOG_COLUMNS} FROM ${db.schema}.task_logs WHERE task_id = ANY($1::bigint[]) ORDER BY task_id, id`,
    [taskIds],
  );
}

/** The newest log lines of any task, newest first, optionally of some levels only. */
export async function selectRecentTaskLogs(db: Db, limit: number, levels?: readonly LogLevel[]): Promise<TaskLogRow[]> {
  if (levels === undefined) {
    return db.rows<TaskLogRow>(`SELECT ${TASK_LOG_COLUMNS} FROM ${db.schema}.task_logs ORDER BY id DESC LIMIT $1`, [limit]);
  }
  return db.rows<TaskLogRow>(
    `SELECT ${TASK_LOG_COLUMNS} FROM ${db.schema}.task_logs WHERE level = ANY($2::text[]) ORDER BY id DESC LIMIT $1`,
    [limit, levels],
  );
}

/** Deletes up to `limit` log lines written before `before`; returns how many. */
export async function deleteTaskLogsBefore(db: Db, before: number, limit: number): Promise<number> {
  const rows = await db.rows(
    `DELETE FROM ${db.schema}.task_logs WHERE id IN (
       SELECT id FROM ${db.schema}.task_logs WHERE at < $1 ORDER BY at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [before, limit],
  );
  return rows.length;
}

export async function countTaskLogsBefore(db: Db, before: number): Promise<number> {
  const [row] = await db.rows<{ n: number }>(`SELECT count(*) AS n FROM ${db.schema}.task_logs WHERE at < $1`, [before]);
  return row?.n ?? 0;
}
