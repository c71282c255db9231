// A worker's writes as data in, data out: what a tick records and claims, and a heartbeat's lease
// renewal. The same functions run on the worker's connection or on a database thread's.
import { randomUUID } from "node:crypto";
import {
  type DatabaseThread,
  type DatabaseThreadOps,
  isQueueError,
  nextDueTime,
  type QueueDatabase,
  releaseClaim,
  type Task,
  type TaskStatus,
  touchWorker,
} from "@queue/core";
import { BUILT_IN_STRATEGIES, getStrategy, type SchedulingStrategy } from "@queue/scheduling";
import {
  type ClaimedRows,
  type ClaimedTask,
  type ClaimRequest,
  claimRows,
  completeMany,
  decodeClaimedRows,
  type ExtendResult,
  extend,
  type Failure,
  fail,
  type Lease,
  leasedTasks,
} from "./leases.js";

export interface TickRequest {
  /** Successes to record, all in one statement. */
  readonly completions: readonly { readonly lease: Lease; readonly result: string }[];
  /** Failures to record, one statement each. */
  readonly failures: readonly { readonly lease: Lease; readonly failure: Failure }[];
  /** The claim to make after recording (by strategy name), if any; `limit` 0 with `recover` only recovers. */
  readonly claim?: Omit<ClaimRequest, "strategy"> & { readonly strategy: string };
}

/** What a tick wrote, but for its claimed tasks. */
interface TickOutcome {
  /** The transaction's time. */
  readonly now: number;
  /** Ids of the completions recorded (the others' leases were lost). */
  readonly completed: ReadonlySet<number>;
  /** For each failure, the status its task ended in, or null if its lease was lost. */
  readonly ended: readonly (TaskStatus | null)[];
  /** Claimed rows that could not be decoded and were dead-lettered. */
  readonly discarded: number;
  readonly recovered: readonly Task[];
  /** When the claim took less than it asked for: the next time a task falls due (null: none). */
  readonly nextDue?: number | null;
  /** PRAGMA data_version read inside a claim's transaction. */
  readonly dataVersion?: number;
}

export interface TickResult extends TickOutcome {
  readonly claimed: readonly ClaimedTask[];
}

/** A tick's answer from a database thread: the claimed rows as plain values, decoded on arrival. */
interface TickRows extends TickOutcome {
  /** None without a claim. */
  readonly rows?: Pick<ClaimedRows, "values" | "lease">;
}

/** Records outcomes, then claims; run it inside a write transaction. */
export function runTick(db: QueueDatabase, request: TickRequest, strategy?: SchedulingStrategy): TickResult {
  const tasks: Task[] = [];
  const chosen = strategy ?? (request.claim === undefined ? undefined : getStrategy(request.claim.strategy));
  const { rows, ...outcome } = tickRows(db, request, chosen, tasks);
  return { ...outcome, claimed: rows === undefined || chosen === undefined ? [] : leasedTasks(tasks, rows.lease, chosen) };
}

/** runTick, but for the claimed tasks: their rows (see claimRows). `strategy` defaults to the one the claim names. */
function tickRows(db: QueueDatabase, request: TickRequest, strategy?: SchedulingStrategy, decoded?: Task[]): TickRows {
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
  if (wanted === undefined) return { now, completed, ended, discarded: 0, recovered: [] };
  const rows = claimRows(db, { ...wanted, strategy: strategy ?? getStrategy(wanted.strategy) }, decoded);
  const short = rows.values.length < wanted.limit;
  return {
    now,
    completed,
    ended,
    rows: { values: rows.values, lease: rows.lease },
    discarded: rows.discarded,
    recovered: rows.recovered,
    // After the claim's own time: a task that fell due while it ran is due now, not skipped as past.
    ...(short ? { nextDue: nextDueTime(db, rows.lease.now) } : {}),
    // Read while holding the write lock, so that no commit by another connection falls between
    // this claim and the version it is compared with.
    ...(wanted.limit > 0 ? { dataVersion: db.dataVersion() } : {}),
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
    dataVersion: async () => db.dataVersion(),
  };
}

/** What a database thread must serve for `threadWrites`: spread it into the ops given to `serveDatabaseThread`. */
export const WORKER_THREAD_OPS = {
  "worker.tick": (db: QueueDatabase, request: TickRequest) => db.transaction((tx) => tickRows(tx, request)),
  "worker.renew": (db: QueueDatabase, request: RenewRequest) => db.transaction((tx) => renewWorker(tx, request)),
  "worker.dataVersion": (db: QueueDatabase) => db.dataVersion(),
} satisfies DatabaseThreadOps;

/** Whether a worker with this strategy can have its writes run on a database thread (which knows only the built-in ones). */
export function threadCanClaimWith(strategy: SchedulingStrategy): boolean {
  return BUILT_IN_STRATEGIES.includes(strategy);
}

/**
 * On a database thread serving {@link WORKER_THREAD_OPS}, and on the worker's own connection `db`
 * when the thread is not there. Claimed tasks arrive as copies and are frozen again.
 */
export function threadWrites(thread: DatabaseThread, db: QueueDatabase, strategy: SchedulingStrategy): WorkerWrites {
  const own = connectionWrites(db, strategy);
  // data_version counts another connection's commits, one count per connection: the two must never
  // be compared. The worker's own connection's (while the thread starts, or after it stopped) are
  // told apart by making them negative.
  const ownVersion = (version: number) => (version < 0 ? version : -2 - version);
  const ownTick = async (request: TickRequest): Promise<TickResult> => {
    const result = await own.tick(request);
    return result.dataVersion === undefined ? result : { ...result, dataVersion: ownVersion(result.dataVersion) };
  };
  return {
    tick: async (request) => {
      // A claim names its lease token here, so that what it took can be given back if its answer is lost.
      const sent =
        request.claim === undefined || request.claim.limit < 1 ? request : { ...request, claim: { ...request.claim, token: randomUUID() } };
      let answer: TickRows | TickResult;
      let ranHere = false;
      try {
        answer = await thread.call<TickRows | TickResult>("worker.tick", sent, () => {
          ranHere = true;
          return ownTick(sent);
        });
      } catch (error) {
        // The thread stopped before it answered: the claim may have committed, and its tasks would
        // wait for their lease to expire. They go back to the queue now (nothing, if it did not).
        // A tick run here that failed was rolled back: nothing to give back.
        const token = sent.claim?.token;
        if (token !== undefined && !ranHere && !thread.alive) {
          await db.transaction((tx) => releaseClaim(tx, token, tx.clock.now())).catch(() => undefined);
        }
        throw error;
      }
      if ("claimed" in answer) return answer;
      const { rows, ...outcome } = answer;
      for (const task of outcome.recovered) Object.freeze(task);
      return { ...outcome, claimed: rows === undefined ? [] : decodeClaimedRows(rows, strategy) };
    },
    renew: (request) => thread.call("worker.renew", request, () => own.renew(request)),
    dataVersion: () => thread.call("worker.dataVersion", undefined, async () => ownVersion(await own.dataVersion())),
  };
}
