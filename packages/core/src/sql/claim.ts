import { TASK_COLUMNS } from "../models/task-row.js";

/**
 * The shape of the one claim statement. A scheduling strategy contributes only `orderBy` (and may
 * add a filter); everything else about claiming is fixed here so that every strategy keeps the
 * same guarantees. Both are SQL fragments written by the code, never built from user values:
 * values are bound as parameters.
 */
export interface ClaimShape {
  /** An ORDER BY list over `tasks` columns, e.g. `run_after, id`. */
  readonly orderBy: string;
  /** Extra conditions ANDed into the WHERE clause, with named parameters only. */
  readonly filters?: readonly string[];
}

/**
 * Claims up to `:limit` runnable tasks in one atomic statement: the candidates are chosen and
 * leased in the same UPDATE, so two workers can never lease the same task. Parameters: `:now`,
 * `:leaseUntil`, `:token`, `:workerId`, `:limit`, plus those of the shape's filters.
 */
export function buildClaimSql(shape: ClaimShape): string {
  const where = ["status = 'queued'", "run_after <= :now", ...(shape.filters ?? [])].join(" AND ");
  return `UPDATE tasks
SET status = 'leased', lease_token = :token, locked_by = :workerId, lease_until = :leaseUntil,
    attempts = attempts + 1, started_at = :now, updated_at = :now, cancel_requested = 0
WHERE id IN (SELECT id FROM tasks WHERE ${where} ORDER BY ${shape.orderBy} LIMIT :limit)
RETURNING ${TASK_COLUMNS}`;
}

/** Task counts per status; answered from the (status, type) index without reading the table. */
export const COUNT_BY_STATUS_SQL = "SELECT status, count(*) AS count FROM tasks GROUP BY status";
