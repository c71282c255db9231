// Statements that add, read and change single tasks (and lists of them) on PostgreSQL.
import { describeValue, type NewTaskRow, QueueError, TASK_COLUMNS, type TaskListQuery, type TaskRow, type TaskStatus } from "@queue/core";
import type { Db } from "../db.js";
import { CHANGE_STAMP } from "./stamp.js";

/** TASK_COLUMNS, each qualified with `alias.`. */
export function taskColumns(alias: string): string {
  return TASK_COLUMNS.split(",")
    .map((column) => `${alias}.${column.trim()}`)
    .join(", ");
}

/**
 * Inserts a batch in one statement, in order (ids increase along the batch). A row whose
 * idempotency key is taken, by an earlier task or an earlier row of the batch, is not inserted:
 * its answer is the stored row. Concurrent inserts of one key wait for each other (ON CONFLICT),
 * so exactly one task is created.
 */
export async function insertTasks(db: Db, rows: readonly NewTaskRow[], now: number): Promise<(number | TaskRow)[]> {
  if (rows.length === 0) return [];
  const s = db.schema;
  const inserted = await db.rows<{ id: number; idempotency_key: string | null; created: boolean }>(
    `WITH input AS (
       SELECT r.*, nextval('${s}.tasks_id_seq'::regclass) AS new_id
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[])
         WITH ORDINALITY AS r(type, payload, priority, run_after, max_attempts, idempotency_key, timeout_ms, required_capabilities,
           trace_parent, ord)
     ),
     inserted AS (
       INSERT INTO ${s}.tasks (id, type, payload, priority, run_after, max_attempts, idempotency_key, timeout_ms,
         required_capabilities, trace_parent, created_at, updated_at, change_seq)
       SELECT new_id, type, payload, priority, run_after, max_attempts, idempotency_key, timeout_ms, required_capabilities,
         trace_parent, $10, $10, ${CHANGE_STAMP}
       FROM input ORDER BY ord
       ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id
     )
     SELECT input.new_id AS id, input.idempotency_key, inserted.id IS NOT NULL AS created
     FROM input LEFT JOIN inserted ON inserted.id = input.new_id ORDER BY input.ord`,
    [
      rows.map((row) => row.type),
      rows.map((row) => row.payload),
      rows.map((row) => row.priority),
      rows.map((row) => row.runAfter),
      rows.map((row) => row.maxAttempts),
      rows.map((row) => row.idempotencyKey),
      rows.map((row) => row.timeoutMs),
      rows.map((row) => row.requiredCapabilities),
      rows.map((row) => row.traceParent),
      now,
    ],
  );
  const takenKeys = inserted.filter((row) => !row.created).map((row) => row.idempotency_key as string);
  const stored = new Map((await selectTasksByIdempotencyKeys(db, takenKeys)).map((row) => [row.idempotency_key, row]));
  return inserted.map((row) => {
    if (row.created) return row.id;
    const existing = stored.get(row.idempotency_key);
    if (existing === undefined) throw new Error(`insertTasks: conflict on idempotency key ${row.idempotency_key} but no row found`);
    return existing;
  });
}

export async function selectTask(db: Db, id: number): Promise<TaskRow | undefined> {
  const [row] = await db.rows<TaskRow>(`SELECT ${TASK_COLUMNS} FROM ${db.schema}.tasks WHERE id = $1`, [id]);
  return row;
}

export async function selectTasksByIdempotencyKeys(db: Db, keys: readonly string[]): Promise<TaskRow[]> {
  if (keys.length === 0) return [];
  return db.rows<TaskRow>(`SELECT ${TASK_COLUMNS} FROM ${db.schema}.tasks WHERE idempotency_key = ANY($1::text[])`, [keys]);
}

const STATUS_FILTERS: Record<TaskStatus, string> = {
  queued: "status = 'queued'",
  leased: "status = 'leased'",
  dead_letter: "status = 'dead_letter'",
  cancelled: "status = 'cancelled'",
  completed: "status = 'completed'",
};

export async function listTasks(db: Db, query: TaskListQuery): Promise<TaskRow[]> {
  if (query.status !== undefined && !Object.hasOwn(STATUS_FILTERS, query.status)) {
    throw new QueueError(
      "INVALID_ARGUMENT",
      `Unknown task status ${describeValue(query.status)}; use one of ${Object.keys(STATUS_FILTERS).join(", ")}.`,
    );
  }
  const where: string[] = query.status === undefined ? [] : [STATUS_FILTERS[query.status]];
  const values: unknown[] = [query.limit];
  if (query.type !== undefined) {
    values.push(query.type);
    where.push(`type = $${values.length}`);
  }
  if (query.afterId !== undefined) {
    values.push(query.afterId);
    where.push(query.order === "newest" ? `id < $${values.length}` : `id > $${values.length}`);
  }
  return db.rows<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM ${db.schema}.tasks ${where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`}
     ORDER BY id ${query.order === "newest" ? "DESC" : "ASC"} LIMIT $1`,
    values,
  );
}

/** Task counts per status (all present), each read from the partial index that holds them. */
export async function countTasksByStatus(db: Db): Promise<Record<TaskStatus, number>> {
  const counts: Record<TaskStatus, number> = { queued: 0, leased: 0, completed: 0, dead_letter: 0, cancelled: 0 };
  const s = db.schema;
  const rows = await db.rows<{ status: TaskStatus; count: number }>(
    `SELECT 'queued' AS status, count(*) AS count FROM ${s}.tasks WHERE status = 'queued'
     UNION ALL SELECT 'leased', count(*) FROM ${s}.tasks WHERE status = 'leased'
     UNION ALL SELECT status, count(*) FROM ${s}.tasks
       WHERE finished_at IS NOT NULL AND status IN ('completed', 'dead_letter', 'cancelled') GROUP BY status`,
  );
  for (const row of rows) counts[row.status] = row.count;
  return counts;
}

export async function cancelQueuedTask(db: Db, id: number, now: number): Promise<TaskRow | undefined> {
  const [row] = await db.rows<TaskRow>(
    `UPDATE ${db.schema}.tasks SET status = 'cancelled', finished_at = $2, updated_at = $2, change_seq = ${CHANGE_STAMP}
     WHERE id = $1 AND status = 'queued' RETURNING ${TASK_COLUMNS}`,
    [id, now],
  );
  return row;
}

export async function requestCancelLeasedTask(db: Db, id: number, now: number): Promise<TaskRow | undefined> {
  const [row] = await db.rows<TaskRow>(
    `UPDATE ${db.schema}.tasks SET cancel_requested = 1, updated_at = $2, change_seq = ${CHANGE_STAMP}
     WHERE id = $1 AND status = 'leased' RETURNING ${TASK_COLUMNS}`,
    [id, now],
  );
  return row;
}

export async function retryDeadLetterTask(db: Db, id: number, now: number): Promise<TaskRow | undefined> {
  const [row] = await db.rows<TaskRow>(
    `UPDATE ${db.schema}.tasks SET status = 'queued', attempts = 0, run_after = $2, finished_at = NULL, cancel_requested = 0,
       updated_at = $2, change_seq = ${CHANGE_STAMP}
     WHERE id = $1 AND status = 'dead_letter' RETURNING ${TASK_COLUMNS}`,
    [id, now],
  );
  return row;
}

/**
 * Ends expired leases: back to the queue, dead-lettered (no attempts left) or cancelled (a cancel
 * was pending). Rows another transaction holds are skipped (it is recovering or finishing them).
 */
export async function recoverExpiredLeases(db: Db, now: number): Promise<TaskRow[]> {
  const s = db.schema;
  return db.rows<TaskRow>(
    `UPDATE ${s}.tasks AS t SET
       status = CASE WHEN t.cancel_requested = 1 THEN 'cancelled' WHEN t.attempts >= t.max_attempts THEN 'dead_letter' ELSE 'queued' END,
       error = jsonb_build_object('name', 'LeaseExpired', 'message',
         'The worker ' || coalesce(t.locked_by, '?') || ' stopped renewing its lease (it died, stalled or lost the database)')::text,
       finished_at = CASE WHEN t.cancel_requested = 1 OR t.attempts >= t.max_attempts THEN $1::bigint ELSE NULL END,
       run_after = $1::bigint, lease_token = NULL, lease_until = NULL, locked_by = NULL, updated_at = $1, change_seq = ${CHANGE_STAMP}
     WHERE t.id IN (SELECT id FROM ${s}.tasks WHERE status = 'leased' AND lease_until <= $1 ORDER BY id FOR UPDATE SKIP LOCKED)
       AND t.status = 'leased' AND t.lease_until <= $1
     RETURNING ${taskColumns("t")}`,
    [now],
  );
}

export async function setTaskProgress(db: Db, id: number, token: string, progress: number, now: number): Promise<boolean> {
  const rows = await db.rows(
    `UPDATE ${db.schema}.tasks SET progress = $3, updated_at = $4, change_seq = ${CHANGE_STAMP}
     WHERE id = $1 AND lease_token = $2 AND status = 'leased' RETURNING id`,
    [id, token, progress, now],
  );
  return rows.length === 1;
}

/**
 * The next time after `now` that something becomes claimable without a new write: a delayed task
 * or a lease expiring. Times already past are skipped (a task due now but still queued is one the
 * caller could not take).
 */
export async function nextDueTime(db: Db, now: number): Promise<number | null> {
  const s = db.schema;
  const [row] = await db.rows<{ queued: number | null; leased: number | null }>(
    `SELECT (SELECT min(run_after) FROM ${s}.tasks WHERE status = 'queued' AND run_after > $1) AS queued,
            (SELECT min(lease_until) FROM ${s}.tasks WHERE status = 'leased' AND lease_until > $1) AS leased`,
    [now],
  );
  const times = [row?.queued, row?.leased].filter((time): time is number => typeof time === "number");
  return times.length === 0 ? null : Math.min(...times);
}

/** The queued and leased tasks whose type starts with `typePrefix`, in id order. */
export async function listUnfinishedTasks(db: Db, typePrefix: string): Promise<TaskRow[]> {
  return db.rows<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM ${db.schema}.tasks
      WHERE status IN ('queued', 'leased') AND left(type, length($1::text)) = $1::text ORDER BY id`,
    [typePrefix],
  );
}

/** Deletes those of the tasks that are still queued (their logs go with them); returns their ids, in the order given. */
export async function deleteQueuedTasks(db: Db, ids: readonly number[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const rows = await db.rows<{ id: number }>(
    `DELETE FROM ${db.schema}.tasks WHERE id = ANY($1::bigint[]) AND status = 'queued' RETURNING id`,
    [ids],
  );
  const removed = new Set(rows.map((row) => Number(row.id)));
  return ids.filter((id) => removed.has(id));
}
