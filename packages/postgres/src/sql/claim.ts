// The claim: one statement that picks runnable tasks in the claim's order, locking them with
// FOR UPDATE SKIP LOCKED (concurrent claimers pass over each other's rows instead of waiting), and
// leases them under one token. Filters: due (run_after), not paused (one type, or every type),
// of the worker's types, and needing no capability the worker lacks.
import { CLAIM_COLUMNS, type ClaimableFilter, type ClaimedValues } from "@queue/core";
import type { Db } from "../db.js";
import { type CompiledOrder, orderByList } from "./claim-order.js";
import { CHANGE_STAMP } from "./stamp.js";

const RETURNING = CLAIM_COLUMNS.map((column) => `t.${column}`).join(", ");

/**
 * The conditions of a runnable task, on alias `c`. Parameters: $1 now, $2 capabilities (JSON
 * array text), and $3 types (text[]) when `types` is on. The pause subqueries are uncorrelated:
 * evaluated once per statement.
 */
function runnable(schema: string, types: boolean): string {
  return [
    "c.status = 'queued'",
    "c.run_after <= $1",
    `NOT EXISTS (SELECT 1 FROM ${schema}.queue_pauses WHERE type = '*')`,
    `c.type <> ALL (ARRAY(SELECT type FROM ${schema}.queue_pauses))`,
    "(c.required_capabilities IS NULL OR c.required_capabilities::jsonb <@ $2::jsonb)",
    ...(types ? ["c.type = ANY($3::text[])"] : []),
  ].join("\n      AND ");
}

const claimSql = new Map<string, string>();

function buildClaimSql(schema: string, order: CompiledOrder, types: boolean): string {
  const where = runnable(schema, types);
  const next = types ? 4 : 3;
  const [limit, token, workerId, leaseUntil] = [next, next + 1, next + 2, next + 3].map((n) => `$${n}`);
  const picked =
    order.draw === undefined
      ? `picked AS (
    SELECT c.id FROM ${schema}.tasks AS c WHERE ${where}
    ORDER BY ${orderByList(order.keys, "c")} LIMIT ${limit} FOR UPDATE SKIP LOCKED)`
      : // The window's rows are locked (skipping rows other claims hold), then drawn among by weight:
        // exponential keys -ln(u) / weight, weight 1 / (1 + distance from the window's most urgent priority).
        `candidates AS (
    SELECT c.id, c.priority FROM ${schema}.tasks AS c WHERE ${where}
    ORDER BY ${orderByList(order.keys, "c")} LIMIT ${order.draw.window} FOR UPDATE SKIP LOCKED),
  picked AS (
    SELECT id FROM candidates
    ORDER BY -ln(1.0 - random()) * (1 + priority - (SELECT min(priority) FROM candidates)) LIMIT ${limit})`;
  return `WITH ${picked}
UPDATE ${schema}.tasks AS t
SET status = 'leased', lease_token = ${token}, locked_by = ${workerId}, lease_until = ${leaseUntil},
    attempts = t.attempts + 1, started_at = $1, updated_at = $1, change_seq = ${CHANGE_STAMP}, cancel_requested = 0
FROM picked WHERE t.id = picked.id
RETURNING ${RETURNING}`;
}

export interface ClaimStatement {
  readonly order: CompiledOrder;
  readonly filter: ClaimableFilter;
  readonly now: number;
  readonly limit: number;
  readonly token: string;
  readonly workerId: string;
  readonly leaseUntil: number;
}

/** Claims up to `limit` runnable tasks; rows in CLAIM_COLUMNS order, in no particular order. */
export async function claimTasks(db: Db, claim: ClaimStatement): Promise<ClaimedValues[]> {
  const types = claim.filter.types !== undefined;
  const key = `${db.schema}\0${claim.order.key}\0${types}`;
  let sql = claimSql.get(key);
  if (sql === undefined) {
    sql = buildClaimSql(db.schema, claim.order, types);
    claimSql.set(key, sql);
  }
  const values: unknown[] = [claim.now, JSON.stringify(claim.filter.capabilities)];
  if (types) values.push(claim.filter.types);
  values.push(claim.limit, claim.token, claim.workerId, claim.leaseUntil);
  return db.arrays<ClaimedValues>(sql, values);
}

/** Would a claim with this filter take anything now: a runnable task, or an expired lease to recover? A read. */
export async function hasClaimable(db: Db, filter: ClaimableFilter, now: number): Promise<boolean> {
  const types = filter.types !== undefined;
  const values: unknown[] = [now, JSON.stringify(filter.capabilities)];
  if (types) values.push(filter.types);
  const [row] = await db.rows<{ claimable: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM ${db.schema}.tasks AS c WHERE ${runnable(db.schema, types)})
       OR EXISTS (SELECT 1 FROM ${db.schema}.tasks WHERE status = 'leased' AND lease_until <= $1) AS claimable`,
    values,
  );
  return row?.claimable === true;
}
