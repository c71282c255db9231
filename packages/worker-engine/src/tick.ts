// A worker's writes as data in, data out: what a tick records and claims, and a heartbeat's lease
// renewal. The same functions run on the worker's connection or on a database thread's.
import {
  type DatabaseThread,
  type DatabaseThreadOps,
  isQueueError,
  nextDueTime,
  type QueueDatabase,
  type Task,
  type TaskStatus,
  touchWorker,
} from "@queue/core";
import { BUILT_IN_STRATEGIES, getStrategy, type SchedulingStrategy } from "@queue/scheduling";
import {
  type ClaimedTask,
  type ClaimRequest,
  claim,
  completeMany,
  type ExtendResult,
  extend,
  type Failure,
  fail,
  type Lease,
} from "./leases.js";

export interface TickRequest {
  /** Successes to record, all in one statement. */
  readonly completions: readonly { readonly lease: Lease; readonly result: string }[];
  /** Failures to record, one statement each. */
  readonly failures: readonly { readonly lease: Lease; readonly failure: Failure }[];
  /** The claim to make after recording (by strategy name), if any; `limit` 0 with `recover` only recovers. */
  readonly claim?: Omit<ClaimRequest, "strategy"> & { readonly strategy: string };
}

export interface TickResult {
  /** The transaction's time. */
  readonly now: number;
  /** Ids of the completions recorded (the others' leases were lost). */
  readonly completed: ReadonlySet<number>;
  /** For each failure, the status its task ended in, or null if its lease was lost. */
  readonly ended: readonly (TaskStatus | null)[];
  readonly claimed: readonly ClaimedTask[];
  /** Claimed rows that could not be decoded and were dead-lettered. */
  readonly discarded: number;
  readonly recovered: readonly Task[];
  /** When the claim took less than it asked for: the next time a task falls due (null: none). */
  readonly nextDue?: number | null;
  /** PRAGMA data_version read inside a claim's transaction. */
  readonly dataVersion?: number;
}

/** Records outcomes, then claims; run it inside a write transaction. */
export function runTick(db: QueueDatabase, request: TickRequest, strategy?: SchedulingStrategy): TickResult {
  const now = db.clock.now();
  const completed = completeMany(db, request.completions);
  const ended = request.failures.map(({ lease, failure }) => {
    try {
      return fail(db, lease, failure);
    } catch (error) {
      if (isQueueError(error, "LEASE_LOST")) return null;
      throw error;
    }
  });
  const wanted = request.claim;
  if (wanted === undefined) return { now, completed, ended, claimed: [], discarded: 0, recovered: [] };
  const result = claim(db, { ...wanted, strategy: strategy ?? getStrategy(wanted.strategy) });
  const short = result.claimed.length < wanted.limit;
  return {
    now,
    completed,
    ended,
    claimed: result.claimed,
    discarded: result.discarded,
    recovered: result.recovered,
    // Only a time still to come can wake an idle worker: see Worker.
    ...(short ? { nextDue: nextDueTime(db) } : {}),
    // Read while holding the write lock, so that no commit by another connection falls between
    // this claim and the version it is compared with.
    ...(wanted.limit > 0 ? { dataVersion: dataVersion(db) } : {}),
  };
}

export interface RenewRequest {
  readonly workerId: string;
  readonly leases: readonly Lease[];
  readonly leaseMs: number;
}

/** Notes the worker alive and extends its leases (if any); run it inside a write transaction. */
export function renewWorker(db: QueueDatabase, request: RenewRequest): ExtendResult | undefined {
  touchWorker(db, request.workerId, db.clock.now());
  return request.leases.length === 0 ? undefined : extend(db, request.leases, request.leaseMs);
}

export function dataVersion(db: QueueDatabase): number {
  return db.statement<{ data_version: number }>("PRAGMA data_version").get()?.data_version ?? -1;
}

/** Where a worker's ticks, renewals and data_version reads run. */
export interface WorkerWrites {
  tick(request: TickRequest): Promise<TickResult>;
  renew(request: RenewRequest): Promise<ExtendResult | undefined>;
  dataVersion(): Promise<number>;
}

/** On the worker's own connection. */
export function connectionWrites(db: QueueDatabase, strategy: SchedulingStrategy): WorkerWrites {
  return {
    tick: (request) => db.transaction((tx) => runTick(tx, request, strategy)),
    renew: (request) => db.transaction((tx) => renewWorker(tx, request)),
    dataVersion: async () => dataVersion(db),
  };
}

/** What a database thread must serve for `threadWrites`: spread it into the ops given to `serveDatabaseThread`. */
export const WORKER_THREAD_OPS = {
  "worker.tick": (db: QueueDatabase, request: TickRequest) => db.transaction((tx) => runTick(tx, request)),
  "worker.renew": (db: QueueDatabase, request: RenewRequest) => db.transaction((tx) => renewWorker(tx, request)),
  "worker.dataVersion": (db: QueueDatabase) => dataVersion(db),
} satisfies DatabaseThreadOps;

/** Whether a worker with this strategy can have its writes run on a database thread (which knows only the built-in ones). */
export function threadCanClaimWith(strategy: SchedulingStrategy): boolean {
  return BUILT_IN_STRATEGIES.includes(strategy);
}

/**
 * On a database thread serving {@link WORKER_THREAD_OPS}, and on `own` (the worker's connection)
 * when the thread is not there. Claimed tasks arrive as copies and are frozen again.
 */
export function threadWrites(thread: DatabaseThread, own: WorkerWrites): WorkerWrites {
  return {
    tick: async (request) => {
      const result = await thread.call<TickResult>("worker.tick", request, () => own.tick(request));
      for (const { task } of result.claimed) Object.freeze(task);
      for (const task of result.recovered) Object.freeze(task);
      return result;
    },
    renew: (request) => thread.call("worker.renew", request, () => own.renew(request)),
    dataVersion: () => thread.call("worker.dataVersion", undefined, () => own.dataVersion()),
  };
}
