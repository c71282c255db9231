import type { Task, TaskError, TaskStatus } from "../types.js";
import { dateFromMillis, parseJsonColumn, stringArrayFromColumn } from "./json.js";

/** A `tasks` row exactly as SQLite returns it. */
export interface TaskRow {
  id: number;
  type: string;
  priority: number;
  payload: string;
  status: TaskStatus;
  attempts: number;
  max_attempts: number;
  run_after: number;
  lease_until: number | null;
  lease_token: string | null;
  locked_by: string | null;
  idempotency_key: string | null;
  timeout_ms: number | null;
  required_capabilities: string | null;
  cancel_requested: number;
  error: string | null;
  result: string | null;
  progress: number | null;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
  trace_parent: string | null;
}

/** The column list for SELECT and RETURNING clauses that map to a `Task`. */
export const TASK_COLUMNS =
  "id, type, priority, payload, status, attempts, max_attempts, run_after, lease_until, lease_token, locked_by, " +
  "idempotency_key, timeout_ms, required_capabilities, cancel_requested, error, result, progress, " +
  "created_at, updated_at, started_at, finished_at, trace_parent";

/** The fields of a TaskRow, in TASK_COLUMNS order (what a backend stores for every task). */
export const TASK_ROW_FIELDS: readonly (keyof TaskRow)[] = Object.freeze(
  TASK_COLUMNS.split(",").map((column) => column.trim() as keyof TaskRow),
);

export function taskFromRow<Payload = unknown, Result = unknown>(row: TaskRow): Task<Payload, Result> {
  return Object.freeze({
    id: row.id,
    type: row.type,
    priority: row.priority,
    payload: parseJsonColumn(row.payload, "tasks.payload", row.id) as Payload,
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: dateFromMillis(row.run_after),
    leaseUntil: dateFromMillis(row.lease_until),
    lockedBy: row.locked_by,
    idempotencyKey: row.idempotency_key,
    timeoutMs: row.timeout_ms,
    requiredCapabilities: stringArrayFromColumn(row.required_capabilities, "tasks.required_capabilities", row.id),
    cancelRequested: row.cancel_requested === 1,
    error: parseJsonColumn(row.error, "tasks.error", row.id) as TaskError | null,
    result: parseJsonColumn(row.result, "tasks.result", row.id) as Result | null,
    progress: row.progress,
    createdAt: dateFromMillis(row.created_at),
    updatedAt: dateFromMillis(row.updated_at),
    startedAt: dateFromMillis(row.started_at),
    finishedAt: dateFromMillis(row.finished_at),
    traceParent: row.trace_parent,
  });
}
