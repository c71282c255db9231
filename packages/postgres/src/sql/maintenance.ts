// Maintenance batches: each statement touches at most `limit` rows, so callers loop over short
// transactions. The task with the highest id is never removed, as on SQLite (an id names one task
// only; PostgreSQL would not reuse it, but the port promises the same on every backend).
import type { ArchivedTaskRow, DeadLetterGroupRow, FinishedStatus, TaskRow } from "@queue/core";
import { TASK_COLUMNS } from "@queue/core";
import type { Db } from "../db.js";
import { CHANGE_STAMP } from "./stamp.js";

const BELOW_NEWEST = (schema: string) => `id < (SELECT max(id) FROM ${schema}.tasks)`;

/** Up to `limit` tasks in `status` that finished before `before`, oldest first, locked for this transaction (rows others hold are skipped). */
export async function selectFinishedBefore(db: Db, status: FinishedStatus, before: number, limit: number): Promise<TaskRow[]> {
  return db.rows<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM ${db.schema}.tasks
     WHERE status = $1 AND finished_at < $2 AND ${BELOW_NEWEST(db.schema)} ORDER BY finished_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`,
    [status, before, limit],
  );
}

export async function countFinishedBefore(db: Db, status: FinishedStatus, before: number): Promise<number> {
  const [row] = await db.rows<{ n: number }>(
    `SELECT count(*) AS n FROM ${db.schema}.tasks WHERE status = $1 AND finished_at < $2 AND ${BELOW_NEWEST(db.schema)}`,
    [status, before],
  );
  return row?.n ?? 0;
}

/** Copies finished tasks, with their logs as JSON, into the archive (replacing an archived copy); returns how many. */
export async function archiveTasks(db: Db, ids: readonly number[], now: number): Promise<number> {
  if (ids.length === 0) return 0;
  const s = db.schema;
  const rows = await db.rows(
    `INSERT INTO ${s}.tasks_archive (id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key,
       timeout_ms, required_capabilities, error, result, progress, created_at, updated_at, started_at, finished_at, logs, archived_at)
     SELECT t.id, t.type, t.priority, t.payload, t.status, t.attempts, t.max_attempts, t.run_after, t.idempotency_key,
       t.timeout_ms, t.required_capabilities, t.error, t.result, t.progress, t.created_at, t.updated_at, t.started_at, t.finished_at,
       (SELECT coalesce(json_agg(json_build_object('at', l.at, 'level', l.level, 'message', l.message, 'details', l.details::json)
          ORDER BY l.id), '[]'::json)::text FROM ${s}.task_logs AS l WHERE l.task_id = t.id),
       $2
     FROM ${s}.tasks AS t WHERE t.id = ANY($1::bigint[]) AND t.status IN ('completed', 'dead_letter', 'cancelled')
     ON CONFLICT (id) DO UPDATE SET type = excluded.type, priority = excluded.priority, payload = excluded.payload,
       status = excluded.status, attempts = excluded.attempts, max_attempts = excluded.max_attempts, run_after = excluded.run_after,
       idempotency_key = excluded.idempotency_key, timeout_ms = excluded.timeout_ms,
       required_capabilities = excluded.required_capabilities, error = excluded.error, result = excluded.result,
       progress = excluded.progress, created_at = excluded.created_at, updated_at = excluded.updated_at,
       started_at = excluded.started_at, finished_at = excluded.finished_at, logs = excluded.logs, archived_at = excluded.archived_at
     RETURNING id`,
    [ids, now],
  );
  return rows.length;
}

/** Deletes tasks by id (their logs go with them); returns how many. */
export async function deleteTasks(db: Db, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  return (await db.rows(`DELETE FROM ${db.schema}.tasks WHERE id = ANY($1::bigint[]) RETURNING id`, [ids])).length;
}

/** Deletes finished tasks by id, never the newest task; returns how many. */
export async function deleteFinishedTasks(db: Db, ids: readonly number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db.rows(
    `DELETE FROM ${db.schema}.tasks WHERE id = ANY($1::bigint[]) AND status IN ('completed', 'dead_letter', 'cancelled')
       AND ${BELOW_NEWEST(db.schema)} RETURNING id`,
    [ids],
  );
  return rows.length;
}

export async function countArchived(db: Db): Promise<number> {
  const [row] = await db.rows<{ n: number }>(`SELECT count(*) AS n FROM ${db.schema}.tasks_archive`);
  return row?.n ?? 0;
}

export async function selectArchived(db: Db, afterId: number, limit: number): Promise<ArchivedTaskRow[]> {
  return db.rows<ArchivedTaskRow>(
    `SELECT id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key, timeout_ms, required_capabilities,
       error, result, progress, created_at, updated_at, started_at, finished_at, logs, archived_at
     FROM ${db.schema}.tasks_archive WHERE id > $1 ORDER BY id LIMIT $2`,
    [afterId, limit],
  );
}

/** Puts archived tasks back under their ids (ids in use are skipped; a key in use is dropped); returns the ids restored. */
export async function restoreArchivedTasks(db: Db, ids: readonly number[] | undefined, limit: number): Promise<number[]> {
  const s = db.schema;
  const restored = await db.rows<{ id: number }>(
    `INSERT INTO ${s}.tasks (id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key, timeout_ms,
       required_capabilities, error, result, progress, created_at, updated_at, started_at, finished_at, change_seq)
     SELECT a.id, a.type, a.priority, a.payload, a.status, a.attempts, a.max_attempts, a.run_after,
       CASE WHEN EXISTS (SELECT 1 FROM ${s}.tasks AS t WHERE t.idempotency_key = a.idempotency_key) THEN NULL ELSE a.idempotency_key END,
       a.timeout_ms, a.required_capabilities, a.error, a.result, a.progress, a.created_at, a.updated_at, a.started_at, a.finished_at,
       ${CHANGE_STAMP}
     FROM ${s}.tasks_archive AS a
     WHERE ($1::bigint[] IS NULL OR a.id = ANY($1::bigint[])) AND NOT EXISTS (SELECT 1 FROM ${s}.tasks AS t WHERE t.id = a.id)
     ORDER BY a.id LIMIT $2
     ON CONFLICT DO NOTHING
     RETURNING id`,
    [ids === undefined ? null : ids, limit],
  );
  const restoredIds = restored.map((row) => row.id).sort((a, b) => a - b);
  if (restoredIds.length > 0) await db.rows(`DELETE FROM ${s}.tasks_archive WHERE id = ANY($1::bigint[])`, [restoredIds]);
  return restoredIds;
}

/** Dead-lettered tasks grouped by type and error, largest group first. */
export async function summarizeDeadLetters(db: Db, type: string | undefined): Promise<DeadLetterGroupRow[]> {
  return db.rows<DeadLetterGroupRow>(
    `SELECT type, error_name, error_message, count(*) AS count, min(id) AS first_id, max(finished_at) AS last_finished_at
     FROM (SELECT id, type, finished_at, ${jsonField("name")} AS error_name, ${jsonField("message")} AS error_message
           FROM ${db.schema}.tasks WHERE status = 'dead_letter' AND ($1::text IS NULL OR type = $1)) AS dead
     GROUP BY type, error_name, error_message ORDER BY count(*) DESC, type COLLATE "C"`,
    [type ?? null],
  );
}

/** A field of the `error` JSON as text; null for an error that is not a JSON object. */
function jsonField(name: "name" | "message"): string {
  return `CASE WHEN error IS NOT NULL AND error ~ '^\\s*\\{' THEN (error::jsonb ->> '${name}') END`;
}

/** Sends up to `limit` dead-lettered tasks (of one type, or all) back to the queue; returns their ids. */
export async function retryDeadLetters(db: Db, type: string | undefined, limit: number, now: number): Promise<number[]> {
  const s = db.schema;
  const rows = await db.rows<{ id: number }>(
    `UPDATE ${s}.tasks SET status = 'queued', attempts = 0, run_after = $3, finished_at = NULL, cancel_requested = 0, updated_at = $3,
       change_seq = ${CHANGE_STAMP}
     WHERE id IN (SELECT id FROM ${s}.tasks WHERE status = 'dead_letter' AND ($1::text IS NULL OR type = $1)
                  ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
       AND status = 'dead_letter'
     RETURNING id`,
    [type ?? null, limit, now],
  );
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

/** Deletes up to `limit` dead-lettered tasks (of one type, or all; never the newest task); returns how many. */
export async function purgeDeadLetters(db: Db, type: string | undefined, limit: number): Promise<number> {
  const s = db.schema;
  const rows = await db.rows(
    `DELETE FROM ${s}.tasks WHERE id IN (
       SELECT id FROM ${s}.tasks WHERE status = 'dead_letter' AND ($1::text IS NULL OR type = $1) AND ${BELOW_NEWEST(s)}
       ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
     RETURNING id`,
    [type ?? null, limit],
  );
  return rows.length;
}
