// The low-level lease operations every worker is built from. Each runs synchronously inside the
// caller's transaction and enforces the lease-token rule: only the current holder may complete,
// fail or extend a task, and a late answer after the lease was lost changes nothing.
import { randomUUID } from "node:crypto";
import {
  anyPaused,
  buildClaimProbeSql,
  buildClaimSql,
  type ClaimedValues,
  type ClaimFilters,
  claimedTask,
  claimOrderKey,
  claimTasks,
  completeLeasedTasks,
  type QueueDatabase,
  QueueError,
  recoverExpiredLeases,
  releaseLeasedTask,
  renewLeases,
  type Task,
  type TaskStatus,
  taskFromRow,
} from "@queue/core";
import type { SchedulingStrategy } from "@queue/scheduling";

/** Proof of holding a task's lease. */
export interface Lease {
  readonly taskId: number;
  readonly token: string;
  readonly workerId: string;
}

export interface ClaimRequest {
  readonly workerId: string;
  readonly strategy: SchedulingStrategy;
  readonly leaseMs: number;
  readonly limit: number;
  /** Only these types; undefined for every type. */
  readonly types?: readonly string[] | undefined;
  /** The worker's capabilities; tasks requiring others are skipped. */
  readonly capabilities: readonly string[];
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

export interface ClaimedTask {
  readonly task: Task;
  readonly lease: Lease;
}

export interface ClaimOutcome {
  readonly claimed: ClaimedTask[];
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
function claimStatement(db: QueueDatabase, request: ClaimRequest): { sql: string; params: Record<string, unknown> } {
  const filters: ClaimFilters = {
    types: request.types === undefined ? false : request.types.length === 1 ? "one" : "list",
    capabilities: request.capabilities.length === 0 ? "none" : true,
    pauses: anyPaused(db),
  };
  const key = `${request.strategy.name}\0${claimOrderKey(request.strategy.order)}\0${filters.types}\0${filters.capabilities}\0${filters.pauses}`;
  let sql = claimSqlCache.get(key);
  if (sql === undefined) {
    sql = buildClaimSql(request.strategy.order, filters);
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
export function hasClaimable(db: QueueDatabase, request: Pick<ClaimRequest, "types" | "capabilities">): boolean {
  const types = request.types !== undefined;
  const sql = types ? probeSql.types : probeSql.all;
  const row = db.statement<{ claimable: number }>(sql).get({
    now: db.clock.now(),
    capabilities: JSON.stringify(request.capabilities),
    ...(types ? { types: JSON.stringify(request.types) } : {}),
  });
  return row?.claimable === 1;
}

/** What a claim wrote: each task's values as the claim statement returned them, and the lease they share. */
export interface ClaimedRows {
  /** Rows that decode, in the order the statement returned them. */
  readonly values: readonly ClaimedValues[];
  readonly lease: ClaimLease;
  /** Claimed rows that could not be decoded and were dead-lettered instead. */
  readonly discarded: number;
  /** Tasks whose expired leases were recovered first (requeued, dead-lettered or cancelled). */
  readonly recovered: Task[];
}

export interface ClaimLease {
  readonly token: string;
  readonly workerId: string;
  readonly leaseUntil: number;
  readonly now: number;
}

/**
 * Recovers expired leases, then claims up to `limit` runnable tasks in the strategy's order under
 * one new lease token. Call inside a write transaction.
 */
export function claim(db: QueueDatabase, request: ClaimRequest): ClaimOutcome {
  const tasks: Task[] = [];
  const rows = claimRows(db, request, tasks);
  return { claimed: leasedTasks(tasks, rows.lease, request.strategy), discarded: rows.discarded, recovered: rows.recovered };
}

/**
 * The tasks of claimed rows (see `claimRows`), in the strategy's order, each with its lease. Rows
 * that `claimRows` returned always decode.
 */
export function decodeClaimedRows(rows: Pick<ClaimedRows, "values" | "lease">, strategy: SchedulingStrategy): ClaimedTask[] {
  return leasedTasks(
    rows.values.map((values) => claimedTask(values, rows.lease)),
    rows.lease,
    strategy,
  );
}

/** Claimed tasks in the strategy's order, each with its lease. */
export function leasedTasks(tasks: Task[], lease: ClaimLease, strategy: SchedulingStrategy): ClaimedTask[] {
  const compare = strategy.compare;
  if (compare !== undefined) tasks.sort(compare);
  return tasks.map((task) => ({ task, lease: { taskId: task.id, token: lease.token, workerId: lease.workerId } }));
}

/**
 * `claim` without building the claimed tasks: their values as the statement returned them, each
 * checked to decode (a row that does not is dead-lettered, as `claim` does). `decoded`, if given,
 * receives the tasks decoded on the way. For a claim made on one thread and run on another: plain
 * values cost far less to copy than tasks.
 */
export function claimRows(db: QueueDatabase, request: ClaimRequest, decoded?: Task[]): ClaimedRows {
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
      // A row another program wrote that cannot be decoded must not stop the queue: dead-letter it.
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

function leaseLost(lease: Lease, operation: string): QueueError {
  return new QueueError(
    "LEASE_LOST",
    `Cannot ${operation} task ${lease.taskId}: worker ${lease.workerId} no longer holds its lease (it expired and the task moved on). Nothing was changed.`,
    { details: { taskId: lease.taskId, workerId: lease.workerId } },
  );
}

/** Records success with the result (JSON text). Throws LEASE_LOST if the lease is gone. */
export function complete(db: QueueDatabase, lease: Lease, result: string): void {
  if (completeMany(db, [{ lease, result }]).size === 0) throw leaseLost(lease, "complete");
}

/**
 * Records many successes in one statement; returns the ids recorded. Tasks whose lease was lost
 * are left unchanged and missing from the answer.
 */
export function completeMany(db: QueueDatabase, items: readonly { readonly lease: Lease; readonly result: string }[]): Set<number> {
  return completeLeasedTasks(
    db,
    items.map(({ lease, result }) => ({ id: lease.taskId, token: lease.token, result })),
    db.clock.now(),
  );
}

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
export function fail(db: QueueDatabase, lease: Lease, failure: Failure): TaskStatus {
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

/** Extends several leases of one worker at once; reports which were lost. */
export function extend(db: QueueDatabase, leases: readonly Lease[], leaseMs: number): ExtendResult {
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
