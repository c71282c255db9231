import {
  type ClaimOrder,
  type ClaimOrderColumn,
  claimOrderKeys,
  type OrderKey,
  validateClaimOrder,
  type WeightedDraw,
} from "../claim-order.js";
import { dateFromMillis, parseJsonColumn, stringArrayFromColumn } from "../models/json.js";
import type { TaskRow } from "../models/task-row.js";
import type { Task, TaskError } from "../types.js";
import { PAUSE_FILTERS } from "./pauses.js";

/**
 * What a claim returns, in this order: the columns a queued task can differ in. The others are
 * known without reading them back (the claim just wrote them, or a queued task always has them),
 * and every returned column costs: RETURNING all 22 made claims about a third slower.
 */
export const CLAIM_COLUMNS = [
  "id",
  "type",
  "priority",
  "payload",
  "attempts",
  "max_attempts",
  "run_after",
  "idempotency_key",
  "timeout_ms",
  "required_capabilities",
  "error",
  "progress",
  "created_at",
  "trace_parent",
] as const;

export const CLAIM_RETURNING = CLAIM_COLUMNS.join(", ");

/**
 * One claimed row as the claim statement returns it: its values in {@link CLAIM_COLUMNS} order.
 * Claims read rows as arrays: naming each value of each row cost about a sixth of the claim.
 */
export type ClaimedValues = readonly [
  id: number,
  type: string,
  priority: number,
  payload: string,
  attempts: number,
  maxAttempts: number,
  runAfter: number,
  idempotencyKey: string | null,
  timeoutMs: number | null,
  requiredCapabilities: string | null,
  error: string | null,
  progress: number | null,
  createdAt: number,
  traceParent: string | null,
];

/** The full row of a task just claimed, from what the claim returned and what it wrote. */
export function claimedTaskRow(
  values: ClaimedValues,
  lease: { token: string; workerId: string; leaseUntil: number; now: number },
): TaskRow {
  const [
    id,
    type,
    priority,
    payload,
    attempts,
    maxAttempts,
    runAfter,
    idempotencyKey,
    timeoutMs,
    capabilities,
    error,
    progress,
    createdAt,
    traceParent,
  ] = values;
  return {
    id,
    type,
    priority,
    payload,
    attempts,
    max_attempts: maxAttempts,
    run_after: runAfter,
    idempotency_key: idempotencyKey,
    timeout_ms: timeoutMs,
    required_capabilities: capabilities,
    error,
    progress,
    created_at: createdAt,
    trace_parent: traceParent,
    status: "leased",
    lease_until: lease.leaseUntil,
    lease_token: lease.token,
    locked_by: lease.workerId,
    cancel_requested: 0,
    result: null,
    updated_at: lease.now,
    started_at: lease.now,
    finished_at: null,
  };
}

/**
 * The task just claimed, decoded straight from what the claim returned and what it wrote: the
 * same Task as `taskFromRow(claimedTaskRow(values, lease))`, without the row in between (a claim
 * runs this for every task). Throws INVALID_DATA for JSON it cannot decode.
 */
export function claimedTask(values: ClaimedValues, lease: { token: string; workerId: string; leaseUntil: number; now: number }): Task {
  const id = values[0];
  return Object.freeze({
    id,
    type: values[1],
    priority: values[2],
    payload: parseJsonColumn(values[3], "tasks.payload", id),
    status: "leased",
    attempts: values[4],
    maxAttempts: values[5],
    runAfter: new Date(values[6]),
    leaseUntil: new Date(lease.leaseUntil),
    lockedBy: lease.workerId,
    idempotencyKey: values[7],
    timeoutMs: values[8],
    requiredCapabilities: stringArrayFromColumn(values[9], "tasks.required_capabilities", id),
    cancelRequested: false,
    error: parseJsonColumn(values[10], "tasks.error", id) as TaskError | null,
    result: null,
    progress: values[11],
    createdAt: dateFromMillis(values[12]),
    updatedAt: new Date(lease.now),
    startedAt: new Date(lease.now),
    finishedAt: null,
    traceParent: values[13],
  });
}

/** Partial indexes over queued tasks; a claim reads its candidates through the one its order follows. */
export const QUEUED_BY_RUN_AFTER_INDEX = "tasks_queued_by_run_after";
export const QUEUED_BY_PRIORITY_INDEX = "tasks_queued_by_priority";

/**
 * The index a claim reads its candidates through (INDEXED BY): the priority index for an order
 * that starts with priority, else the run-after index. Both hold only queued tasks, so a claim never
 * visits a finished one whatever statistics SQLite has (left to itself, a file never ANALYZEd may
 * be planned as a scan of every task). An order starting with either column reads its index in
 * order and stops after the rows it takes; any other first key reads the due tasks and sorts them.
 */
function claimIndex(order: ClaimOrder): string {
  return order.by[0]?.column === "priority" ? QUEUED_BY_PRIORITY_INDEX : QUEUED_BY_RUN_AFTER_INDEX;
}

/** The ORDER BY term of each key: the only text a claim order puts into the statement. */
const ORDER_TERMS: Record<ClaimOrderColumn, Record<OrderKey["direction"], string>> = {
  id: { asc: "id", desc: "id DESC" },
  priority: { asc: "priority", desc: "priority DESC" },
  run_after: { asc: "run_after", desc: "run_after DESC" },
  created_at: { asc: "created_at", desc: "created_at DESC" },
  attempts: { asc: "attempts", desc: "attempts DESC" },
};

/**
 * Each draw's sort key over the CTE `candidates`: exponential keys, -ln(u) / weight with u uniform
 * in (0, 1], smallest first, sample without replacement in proportion to weight.
 */
const DRAW_KEYS: Record<WeightedDraw["kind"], string> = {
  weighted_by_priority: "-ln((abs(random()) + 1.0) / 9223372036854775808.0) * (1 + priority - (SELECT min(priority) FROM candidates))",
};

/**
 * Which filters a claim applies. Each subquery costs on every execution whether or not a row needs
 * it (together they were most of the cost of a claim that takes a task or two), so a caller that
 * knows a filter is moot picks the form without it.
 */
export interface ClaimFilters {
  /**
   * Only some types: `true` or "list" binds `:types`, a JSON array; "one" binds `:type`, a single
   * type name; false claims every type.
   */
  readonly types: boolean | "one" | "list";
  /**
   * `true`: only tasks whose required capabilities are all in `:capabilities` (a JSON array);
   * "none": only tasks that require none (for a worker without capabilities; no parameter);
   * false: tasks whatever they require.
   */
  readonly capabilities: boolean | "none";
  /**
   * Skip paused types (default true). False only when the caller has seen, inside the same write
   * transaction, that nothing is paused (see `anyPaused`).
   */
  readonly pauses?: boolean;
}

const TYPE_FILTERS = {
  one: "type = :type",
  list: "type IN (SELECT value FROM json_each(:types))",
} as const;
const CAPABILITY_FILTERS = {
  all:
    "(required_capabilities IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(tasks.required_capabilities) AS needed " +
    "WHERE needed.value NOT IN (SELECT value FROM json_each(:capabilities))))",
  // An empty JSON array requires nothing too; only rows that hold one pay for the subquery.
  none: "(required_capabilities IS NULL OR NOT EXISTS (SELECT 1 FROM json_each(tasks.required_capabilities)))",
} as const;

/**
 * Claims up to `:limit` runnable tasks in `order` in one atomic statement: the candidates are chosen
 * and leased in the same UPDATE, so two workers can never lease the same task. Paused types are
 * skipped unless `filters.pauses` is false. Parameters: `:now`, `:leaseUntil`, `:token`,
 * `:workerId`, `:limit`, `:seq` (claimTasks adds it), and `:type` / `:types` / `:capabilities` as the filters ask. RETURNING
 * does not keep the ORDER BY: callers that care sort the rows. Throws INVALID_CONFIG for an order
 * `validateClaimOrder` refuses.
 */
export function buildClaimSql(order: ClaimOrder, filters: ClaimFilters = { types: false, capabilities: false }): string {
  const checked = validateClaimOrder(order);
  const where = claimConditions(filters);
  const source = `tasks INDEXED BY ${claimIndex(checked)}`;
  const orderBy = claimOrderKeys(checked)
    .map((key) => ORDER_TERMS[key.column][key.direction])
    .join(", ");
  const update = `UPDATE tasks
SET status = 'leased', lease_token = :token, locked_by = :workerId, lease_until = :leaseUntil,
    attempts = attempts + 1, started_at = :now, updated_at = :now, change_seq = :seq, cancel_requested = 0`;
  const draw = checked.draw;
  if (draw === undefined) {
    return `${update}
WHERE id IN (SELECT id FROM ${source} WHERE ${where} ORDER BY ${orderBy} LIMIT :limit)
RETURNING ${CLAIM_RETURNING}`;
  }
  // The draw sorts only a bounded window of candidates, however deep the queue.
  return `WITH candidates AS (
  SELECT id, priority FROM ${source} WHERE ${where} ORDER BY ${orderBy} LIMIT ${draw.window})
${update}
WHERE id IN (SELECT id FROM candidates ORDER BY ${DRAW_KEYS[draw.kind]} LIMIT :limit)
RETURNING ${CLAIM_RETURNING}`;
}

/** Which queued tasks a claim may take: due, not paused, and matching the filters. */
function claimConditions(filters: ClaimFilters): string {
  const conditions = ["status = 'queued'", "run_after <= :now"];
  if (filters.pauses ?? true) conditions.push(...PAUSE_FILTERS);
  if (filters.types !== false) conditions.push(TYPE_FILTERS[filters.types === "one" ? "one" : "list"]);
  if (filters.capabilities !== false) conditions.push(CAPABILITY_FILTERS[filters.capabilities === "none" ? "none" : "all"]);
  return conditions.join("\n    AND ");
}

/**
 * A read-only question with the claim's own conditions: would a claim with these filters take
 * anything now (a due task, or an expired lease to recover)? Answers `claimable` 0 or 1 without
 * taking the write lock, so an idle worker can look often and write only when there is work.
 * Parameters: `:now`, and `:types` / `:capabilities` when those filters are on.
 */
export function buildClaimProbeSql(filters: ClaimFilters): string {
  return `SELECT EXISTS (SELECT 1 FROM tasks INDEXED BY ${QUEUED_BY_RUN_AFTER_INDEX} WHERE ${claimConditions(filters)})
  OR EXISTS (SELECT 1 FROM tasks INDEXED BY tasks_leased_by_expiry WHERE status = 'leased' AND lease_until <= :now) AS claimable`;
}

/**
 * Task counts per status, each read from a partial index without visiting a row: queued and
 * leased tasks from the claim and lease indexes, finished ones from the finished-by-time index
 * (every final status sets finished_at). Queued and leased always have a row; a final status
 * with no task has none.
 */
export const COUNT_BY_STATUS_SQL = `SELECT 'queued' AS status, count(*) AS count FROM tasks INDEXED BY ${QUEUED_BY_RUN_AFTER_INDEX} WHERE status = 'queued'
UNION ALL SELECT 'leased', count(*) FROM tasks INDEXED BY tasks_leased_by_expiry WHERE status = 'leased'
UNION ALL SELECT status, count(*) FROM tasks INDEXED BY tasks_finished_by_time
  WHERE finished_at IS NOT NULL AND status IN ('completed', 'dead_letter', 'cancelled') GROUP BY status`;
