// Rows written exactly as another store holds them (ids, statuses, leases, times), for moving a
// queue from one backend to another; never used for new work (see tasks.ts for that). Each function
// runs inside a transaction whose search_path names the store's schema (`useSchema`), so the
// statements name no schema and bind every value.
import {
  ARCHIVED_TASK_FIELDS,
  type ArchivedTaskRow,
  TASK_LOG_ROW_FIELDS,
  TASK_ROW_FIELDS,
  type TaskLogRow,
  type TaskRow,
} from "@queue/core";
import type { Db } from "../db.js";

/** Points this transaction's unqualified names at the store's schema (undone at commit or rollback). */
export async function useSchema(db: Db): Promise<void> {
  await db.rows("SELECT set_config('search_path', $1, true)", [db.schema]);
}

/** Every task's log lines after `afterId`, in id order, at most `limit` (after `useSchema`). */
export function selectTaskLogPage(db: Db, afterId: number, limit: number): Promise<TaskLogRow[]> {
  return db.rows<TaskLogRow>("SELECT id, task_id, at, level, message, details FROM task_logs WHERE id > $1 ORDER BY id LIMIT $2", [
    afterId,
    limit,
  ]);
}

/** One column of the rows, as an array for unnest (the statements list the columns in the order of the core's field lists). */
const column = <Row>(rows: readonly Row[], name: keyof Row) => rows.map((row) => row[name] ?? null);

/** Inserts tasks under their own ids, every column as given, stamped with this transaction's id for the change cursor. */
export async function importTasks(db: Db, rows: readonly TaskRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.rows(
    `INSERT INTO tasks (id, type, priority, payload, status, attempts, max_attempts, run_after, lease_until, lease_token, locked_by,
       idempotency_key, timeout_ms, required_capabilities, cancel_requested, error, result, progress, created_at, updated_at,
       started_at, finished_at, trace_parent, change_seq)
     SELECT r.*, pg_current_xact_id()::text::bigint
     FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[],
       $9::bigint[], $10::text[], $11::text[], $12::text[], $13::bigint[], $14::text[], $15::smallint[], $16::text[], $17::text[],
       $18::float8[], $19::bigint[], $20::bigint[], $21::bigint[], $22::bigint[], $23::text[]) AS r`,
    TASK_ROW_FIELDS.map((field) => column(rows, field)),
  );
}

/** Inserts log lines under their own ids; each one's task must already be there. */
export async function importTaskLogs(db: Db, rows: readonly TaskLogRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.rows(
    `INSERT INTO task_logs (id, task_id, at, level, message, details)
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])`,
    TASK_LOG_ROW_FIELDS.map((field) => column(rows, field)),
  );
}

/** Inserts archived tasks under their own ids, as archived. */
export async function importArchivedTasks(db: Db, rows: readonly ArchivedTaskRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.rows(
    `INSERT INTO tasks_archive (id, type, priority, payload, status, attempts, max_attempts, run_after, idempotency_key, timeout_ms,
       required_capabilities, error, result, progress, created_at, updated_at, started_at, finished_at, logs, archived_at)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::bigint[], $8::bigint[],
       $9::text[], $10::bigint[], $11::text[], $12::text[], $13::text[], $14::float8[], $15::bigint[], $16::bigint[], $17::bigint[],
       $18::bigint[], $19::text[], $20::bigint[])`,
    ARCHIVED_TASK_FIELDS.map((field) => column(rows, field)),
  );
}

/**
 * Moves the id sequences of tasks and log lines past every id now stored (archived task ids
 * included), never back: the next task or line gets a new id, not one that was copied in.
 */
export async function moveIdSequences(db: Db): Promise<void> {
  await db.rows(
    `SELECT setval(seq, GREATEST(highest, coalesce(pg_sequence_last_value(seq), 0)))
     FROM (
       SELECT pg_get_serial_sequence('tasks', 'id')::regclass AS seq,
         GREATEST((SELECT max(id) FROM tasks), (SELECT max(id) FROM tasks_archive)) AS highest
       UNION ALL
       SELECT pg_get_serial_sequence('task_logs', 'id')::regclass, (SELECT max(id) FROM task_logs)
     ) AS sequences
     WHERE highest IS NOT NULL`,
  );
}
