// The lease operations a worker is built from, on one SQLite connection. Each runs synchronously
// inside the caller's write transaction and enforces the lease-token rule: only the current holder
// may complete, fail or extend a task, and a late answer after the lease was lost changes nothing.
import { randomUUID } from "node:crypto";
import { type ClaimOrder, claimOrderKey } from "../claim-order.js";
import type { QueueDatabase } from "../database.js";
import { QueueError } from "../errors.js";
import { taskFromRow } from "../models/task-row.js";
import type { Task, TaskStatus } from "../types.js";
import { buildClaimProbeSql, buildClaimSql, type ClaimedValues, type ClaimFilters, claimedTask } from "./claim.js";
import { anyPaused } from "./pauses.js";
import { claimTasks, completeLeasedTasks, recoverExpiredLeases, releaseLeasedTask, renewLeases } from "./tasks.js";

/** Proof of holding a task's lease. */
export interface Lease {
  readonly taskId: number;
  readonly token: string;
  readonly workerId: string;
}

/** Which tasks a claim may take: only these types (undefined: every type), and tasks needing no capability beyond these. */
export interface ClaimableFilter {
  readonly types?: readonly string[] | undefined;
  readonly capabilities: readonly string[];
}

/** A claim of up to `limit` runnable tasks, in `order`, under one new lease. */
export interface LeaseClaim extends ClaimableFilter {
  readonly workerId: string;
  /** The order tasks are taken in (a scheduling strategy's), compiled by the store. */
  readonly order: ClaimOrder;
  readonly leaseMs: number;
  readonly limit: number;
  /**
   * Recover expired leases first (default true). A worker that has finished tasks not yet recorded
   * claims without it, and recovers once it has recorded them: otherwise a lease that ran out
   * while the outcome waited would hand a finished task to another run.
   */
  readonly recover?: boolean;
  /**
   * The lease token the claimed tasks get (default: a new random one). A caller that names it can
   * give back what the claim took should its answer be lost (`releaseClaim`). It must be unique:
   * every task leased under it is given back together.
   */
  readonly token?: string;
}

/** The lease a claim's tasks share. */
export interface ClaimLease {
  readonly token: string;
  readonly workerId: string;
  readonly leaseUntil: number;
  /** The claim's time. */
  readonly now: number;
}

/** What a claim wrote: each task's values as the claim statement returned them, and the lease they share. */
export interface ClaimedRows {
  /** Rows that decode, in the order the statement returned them (not the claim's order). */
  readonly values: readonly ClaimedValues[];
  readonly lease: ClaimLease;
  /** Claimed rows that could not be decoded and were dead-lettered instead. */
  readonly discarded: number;
  /** Tasks whose expired leases were recovered first (requeued, dead-lettered or cancelled). */
  readonly recovered: Task[];
}

const claimSqlCache = new Map<string, string>();

/**
 * The claim statement for this request, in its cheapest form: without the pause filters when
 * nothing is paused (read in the caller's write transaction, so no pause can start before the
 * claim commits), with `type = :type` for a worker of one type, and without the capability list
 * for a worker that has none.
 */
function claimStatement(db: QueueDatabase, request: LeaseClaim): { sql: string; params: Record<string, unknown> } {
  const filters: ClaimFilters = {
    types: request.types === undefined ? false : request.types.length === 1 ? "one" : "list",
    capabilities: request.capabilities.length === 0 ? "none" : true,
    pauses: anyPaused(db),
  };
  const key = `${claimOrderKey(request.order)}\0${filters.types}\0${filters.capabilities}\0${filters.pauses}`;
  let sql = claimSqlCache.get(key);
  if (sql === undefined) {
    sql = buildClaimSql(request.order, filters);
    claimSqlCache.set(key, sql);
  }
  const params: Record<string, unknown> = {};
  if (filters.types === "one") params.type = request.types?.[0];
  else if (filters.types === "list") params.types = JSON.stringify(request.types);
  if (filters.capabilities === true) params.capabilities = JSON.stringify(request.capabilities);
  return { sql, params };
}

const probeSql = {
  all: buildClaimProbeSql({ types: false, capabilities: true }),
  types: buildClaimProbeSql({ types: true, capabilities: true }),
};

/**
 * Whether a claim with these filters would take anything now (a due task, or an expired lease to
 * recover). A read: it takes no write lock.
 */
export function hasClaimable(db: QueueDatabase, filter: ClaimableFilter): boolean {
  const types = filter.types !== undefined;
  const row = db.statement<{ claimable: number }>(types ? probeSql.types : probeSql.all).get({
    now: db.clock.now(),
    capabilities: JSON.stringify(filter.capabilities),
    ...(types ? { types: JSON.stringify(filter.types) } : {}),
  });
  return row?.claimable === 1;
}

/**
 * Recovers expired leases (unless `recover` is false), then claims up to `limit` runnable tasks in
 * the claim's order under one new lease token. Answers the rows, each checked to decode (a row that
 * does not is dead-lettered: a row another program wrote must not stop the queue). `decoded`, if
 * given, receives the tasks decoded on the way. Runs in one transaction of its own unless inside one.
 */
export function claimRows(db: QueueDatabase, request: LeaseClaim, decoded?: Task[]): ClaimedRows {
  // Its statements (the pause check, recovery, the claim) must see one state of the file.
  if (!db.inTransaction) return db.transactionSync((tx) => claimRows(tx, request, decoded));
  const now = db.clock.now();
  const recovered: Task[] = [];
  for (const row of request.recover === false ? [] : recoverExpiredLeases(db, now)) {
    try {
      recovered.push(taskFromRow(row));
    } catch {
      // Recovered all the same; only its report is skipped.
    }
  }
  const token = request.token ?? randomUUID();
  const lease = { token, workerId: request.workerId, leaseUntil: now + request.leaseMs, now };
  if (request.limit < 1) return { values: [], lease, discarded: 0, recovered };
  const statement = claimStatement(db, request);
  const rows = claimTasks(db, statement.sql, {
    ...statement.params,
    now,
    leaseUntil: lease.leaseUntil,
    token,
    workerId: request.workerId,
    limit: request.limit,
  });
  const values: ClaimedValues[] = [];
  for (const row of rows) {
    try {
      const task = claimedTask(row, lease);
      decoded?.push(task);
      values.push(row);
    } catch (error) {
      const reason = { name: "InvalidData", message: (error as Error).message };
      releaseLeasedTask(
        db,
        { id: row[0], token, status: "dead_letter", error: JSON.stringify(reason), runAfter: now, refundAttempt: false },
        now,
      );
    }
  }
  return { values, lease, discarded: rows.length - values.length, recovered };
}

/** The tasks of claimed rows, in the order the rows came. Rows that `claimRows` returned always decode. */
export function claimedTasks(rows: Pick<ClaimedRows, "values" | "lease">): Task[] {
  return rows.values.map((values) => claimedTask(values, rows.lease));
}

/** The error for a write by a worker that no longer holds the task's lease. */
export function leaseLost(lease: Lease, operation: string): QueueError {
  return new QueueError(
    "LEASE_LOST",
    `Cannot ${operation} task ${lease.taskId}: worker ${lease.workerId} no longer holds its lease (it expired and the task moved on). Nothing was changed.`,
    { details: { taskId: lease.taskId, workerId: lease.workerId } },
  );
}

/**
 * Records many successes (each result JSON text) in one statement; returns the ids recorded.
 * Tasks whose lease was lost are left unchanged and missing from the answer.
 */
export function completeMany(db: QueueDatabase, items: readonly { readonly lease: Lease; readonly result: string }[]): Set<number> {
  return completeLeasedTasks(
    db,
    items.map(({ lease, result }) => ({ id: lease.taskId, token: lease.token, result })),
    db.clock.now(),
  );
}

/** How an attempt ends without success. */
export interface Failure {
  /** Where the task goes: retried later, dead-lettered, cancelled, or released untouched (shutdown). */
  readonly outcome: "retry" | "dead_letter" | "cancelled" | "release";
  /** JSON of the TaskError (null for a release). */
  readonly error: string | null;
  /** For a retry: when it may run again. */
  readonly runAfter?: number;
}

/**
 * Ends the attempt without success and returns the status the task ended in (a pending cancel turns
 * a retry or release into cancelled). Throws LEASE_LOST if the lease is gone.
 */
export function failLeased(db: QueueDatabase, lease: Lease, failure: Failure): TaskStatus {
  const now = db.clock.now();
  const status = failure.outcome === "retry" || failure.outcome === "release" ? "queued" : failure.outcome;
  const ended = releaseLeasedTask(
    db,
    {
      id: lease.taskId,
      token: lease.token,
      status,
      error: failure.error,
      runAfter: failure.runAfter ?? now,
      refundAttempt: failure.outcome === "release",
    },
    now,
  );
  if (ended === undefined) throw leaseLost(lease, failure.outcome === "release" ? "release" : "fail");
  return ended;
}

export interface ExtendResult {
  /** Leases still held, with whether a cancel is waiting. */
  readonly held: ReadonlyMap<number, { readonly cancelRequested: boolean }>;
  /** Task ids whose leases were lost. */
  readonly lost: readonly number[];
  /**
   * The leases lost, with their tokens: a task id may appear here for a stale lease while the same
   * task's current lease (another token) is held.
   */
  readonly lostLeases: readonly Lease[];
}

/** Extends several leases at once by `leaseMs` from now; reports which were lost. */
export function extendLeases(db: QueueDatabase, leases: readonly Lease[], leaseMs: number): ExtendResult {
  const now = db.clock.now();
  const byWorker = new Map<string, Lease[]>();
  for (const lease of leases) byWorker.set(lease.workerId, [...(byWorker.get(lease.workerId) ?? []), lease]);
  const held = new Map<number, { cancelRequested: boolean }>();
  // A task's current lease, by id and token: a stale lease of the same task (an earlier claim by
  // this worker that expired) is lost even when the current one is renewed beside it.
  const current = new Set<string>();
  for (const [workerId, group] of byWorker) {
    const tokens = JSON.stringify([...new Set(group.map((lease) => lease.token))]);
    for (const row of renewLeases(db, workerId, tokens, now + leaseMs, now)) {
      if (group.some((lease) => lease.taskId === row.id && lease.token === row.lease_token)) {
        held.set(row.id, { cancelRequested: row.cancel_requested === 1 });
        current.add(`${row.id}:${row.lease_token}`);
      }
    }
  }
  const lostLeases = leases.filter((lease) => !current.has(`${lease.taskId}:${lease.token}`));
  return { held, lost: lostLeases.map((lease) => lease.taskId), lostLeases };
}
