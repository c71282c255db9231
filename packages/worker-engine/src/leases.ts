// The low-level lease operations, on one SQLite connection inside the caller's transaction, for
// tools and tests that drive claims by hand (a Worker goes through its store instead). Each
// enforces the lease-token rule: only the current holder may complete, fail or extend a task.
import {
  type ClaimLease,
  claimRows,
  completeMany,
  type ExtendResult,
  extendLeases,
  type Failure,
  failLeased,
  type Lease,
  leaseLost,
  type QueueDatabase,
  type Task,
  type TaskStatus,
} from "@queue/core";
import type { SchedulingStrategy } from "@queue/scheduling";

export type { ExtendResult, Failure, Lease } from "@queue/core";
export { completeMany };

export interface ClaimRequest {
  readonly workerId: string;
  readonly strategy: SchedulingStrategy;
  readonly leaseMs: number;
  readonly limit: number;
  /** Only these types; undefined for every type. */
  readonly types?: readonly string[] | undefined;
  /** The worker's capabilities; tasks requiring others are skipped. */
  readonly capabilities: readonly string[];
  /** Recover expired leases first (default true). */
  readonly recover?: boolean;
  /** The lease token the claimed tasks get (default: a new random one); it must be unique. */
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

/**
 * Recovers expired leases, then claims up to `limit` runnable tasks in the strategy's order under
 * one new lease token. Call inside a write transaction (or it runs in one of its own).
 */
export function claim(db: QueueDatabase, request: ClaimRequest): ClaimOutcome {
  const { strategy, ...rest } = request;
  const tasks: Task[] = [];
  const rows = claimRows(db, { ...rest, order: strategy.order }, tasks);
  return { claimed: leasedTasks(tasks, rows.lease, strategy), discarded: rows.discarded, recovered: rows.recovered };
}

/** Claimed tasks in the strategy's order, each with its lease. */
export function leasedTasks(tasks: Task[], lease: ClaimLease, strategy: SchedulingStrategy): ClaimedTask[] {
  const compare = strategy.compare;
  if (compare !== undefined) tasks.sort(compare);
  return tasks.map((task) => ({ task, lease: { taskId: task.id, token: lease.token, workerId: lease.workerId } }));
}

/** Records success with the result (JSON text). Throws LEASE_LOST if the lease is gone. */
export function complete(db: QueueDatabase, lease: Lease, result: string): void {
  if (completeMany(db, [{ lease, result }]).size === 0) throw leaseLost(lease, "complete");
}

/**
 * Ends the attempt without success and returns the status the task ended in (a pending cancel turns
 * a retry or release into cancelled). Throws LEASE_LOST if the lease is gone.
 */
export function fail(db: QueueDatabase, lease: Lease, failure: Failure): TaskStatus {
  return failLeased(db, lease, failure);
}

/** Extends several leases of one worker at once; reports which were lost. */
export function extend(db: QueueDatabase, leases: readonly Lease[], leaseMs: number): ExtendResult {
  return extendLeases(db, leases, leaseMs);
}
