// The statements the queue runs most often, and whether SQLite plans them through indexes.

import type { ClaimOrder } from "../claim-order.js";
import type { QueueDatabase } from "../database.js";
import { buildClaimSql, COUNT_BY_STATUS_SQL } from "../sql/claim.js";
import { NEXT_DUE_TIME_SQL, RECOVER_EXPIRED_LEASES_SQL } from "../sql/tasks.js";

/** One of the queue's hot statements, named for reports. */
export interface HotStatement {
  readonly name: string;
  readonly sql: string;
}

/** A claim order to plan, as a scheduling strategy gives it (name and order). */
export interface NamedClaimOrder {
  readonly name: string;
  readonly order: ClaimOrder;
}

/**
 * The statements every worker and dashboard runs over and over: a claim in each given order (with
 * the type and capability filters, its most expensive form), status counts, lease recovery and
 * the next due time. Claim orders come from the caller: the strategies live above core.
 */
export function hotStatements(claimOrders: readonly NamedClaimOrder[]): HotStatement[] {
  return [
    ...claimOrders.map(({ name, order }) => ({
      name: `claim (${name})`,
      sql: buildClaimSql(order, { types: true, capabilities: true }),
    })),
    { name: "status counts", sql: COUNT_BY_STATUS_SQL },
    { name: "lease recovery", sql: RECOVER_EXPIRED_LEASES_SQL },
    { name: "next due time", sql: NEXT_DUE_TIME_SQL },
  ];
}

/** Values for every named parameter the hot statements take; planning never runs them. */
const PLAN_PARAMETERS = { now: 0, leaseUntil: 0, token: "", workerId: "", limit: 1, types: "[]", capabilities: "[]", seq: 1 };

/**
 * The statements that would read the whole tasks table (by EXPLAIN QUERY PLAN), by name. One
 * whose named index (INDEXED BY) is gone cannot even be prepared: it is listed as
 * "<name> (index <index> is missing)".
 */
export function fullTableScans(db: QueueDatabase, statements: readonly HotStatement[]): string[] {
  const scanning: string[] = [];
  for (const { name, sql } of statements) {
    let plan: string[];
    try {
      const statement = db.connection.prepare(`EXPLAIN QUERY PLAN ${sql}`);
      plan = (sql.includes(":") ? statement.all(PLAN_PARAMETERS) : statement.all()).map((row) => (row as { detail: string }).detail);
    } catch (error) {
      const missing = /no such index: (\S+)/.exec((error as Error).message);
      if (missing === null) throw error;
      scanning.push(`${name} (index ${missing[1]} is missing)`);
      continue;
    }
    if (plan.some((detail) => /^SCAN tasks(?! USING)/.test(detail))) scanning.push(name);
  }
  return scanning;
}
