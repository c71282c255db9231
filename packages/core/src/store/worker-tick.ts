// A worker's writes on SQLite as data in, data out: a tick records finished attempts and claims
// the next tasks in one transaction; a renewal notes the worker alive and extends its leases. The
// same functions run on the store's connection or on a database thread's.
import type { QueueDatabase } from "../database.js";
import { isQueueError } from "../errors.js";
import {
  type ClaimedRows,
  type ClaimLease,
  claimedTasks,
  claimRows,
  completeMany,
  type ExtendResult,
  extendLeases,
  type Failure,
  failLeased,
  type Lease,
  type LeaseClaim,
} from "../sql/leases.js";
import { nextDueTime } from "../sql/tasks.js";
import { touchWorker } from "../sql/workers.js";
import type { Task, TaskStatus } from "../types.js";

/** Outcomes to record, then a claim to make, in one transaction. */
export interface TickRequest {
  /** Successes to record (results as JSON text), all in one statement. */
  readonly completions: readonly { readonly lease: Lease; readonly result: string }[];
  /** Failures to record, one statement each. */
  readonly failures: readonly { readonly lease: Lease; readonly failure: Failure }[];
  /** The claim to make after recording, if any; `limit` 0 with `recover` only recovers expired leases. */
  readonly claim?: LeaseClaim;
}

/** What a tick wrote, but for its claimed tasks. */
export interface TickOutcome {
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
  /** The store's write mark (see QueueStore.writeMark) read inside the claim's transaction. */
  readonly writeMark?: number;
}

export interface TickResult extends TickOutcome {
  /** The tasks claimed, leased under `lease`, in no particular order (sort them by the claim's order); the caller's to keep. */
  readonly claimed: Task[];
  /** The lease the claimed tasks share; absent without a claim. */
  readonly lease?: ClaimLease;
}

/** A tick's answer from a database thread: the claimed rows as plain values, decoded on arrival. */
export interface TickRows extends TickOutcome {
  /** None without a claim. */
  readonly rows?: Pick<ClaimedRows, "values" | "lease">;
}

/** Records outcomes, then claims; run it inside a write transaction. */
export function runTick(db: QueueDatabase, request: TickRequest): TickResult {
  const claimed: Task[] = [];
  const { rows, ...outcome } = tickRows(db, request, claimed);
  return rows === undefined ? { ...outcome, claimed } : { ...outcome, claimed, lease: rows.lease };
}

/** runTick, but for the claimed tasks: their rows (see claimRows). */
export function tickRows(db: QueueDatabase, request: TickRequest, decoded?: Task[]): TickRows {
  const now = db.clock.now();
  const completed = completeMany(db, request.completions);
  const ended = request.failures.map(({ lease, failure }) => {
    try {
      return failLeased(db, lease, failure);
    } catch (error) {
      if (isQueueError(error, "LEASE_LOST")) return null;
      throw error;
    }
  });
  const wanted = request.claim;
  if (wanted === undefined) return { now, completed, ended, discarded: 0, recovered: [] };
  const rows = claimRows(db, wanted, decoded);
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
    // this claim and the mark it is compared with.
    ...(wanted.limit > 0 ? { writeMark: db.dataVersion() } : {}),
  };
}

/** The tasks of a thread's tick answer, decoded (and frozen) where they arrived. */
export function tickFromRows(answer: TickRows): TickResult {
  const { rows, ...outcome } = answer;
  for (const task of outcome.recovered) Object.freeze(task);
  return rows === undefined ? { ...outcome, claimed: [] } : { ...outcome, claimed: claimedTasks(rows), lease: rows.lease };
}

/** A worker's heartbeat: it is alive, and these leases (of its tasks) last `leaseMs` more. */
export interface RenewRequest {
  readonly workerId: string;
  readonly leases: readonly Lease[];
  readonly leaseMs: number;
}

/** Notes the worker alive and extends its leases (if any); run it inside a write transaction. */
export function renewWorker(db: QueueDatabase, request: RenewRequest): ExtendResult | undefined {
  touchWorker(db, request.workerId, db.clock.now());
  return request.leases.length === 0 ? undefined : extendLeases(db, request.leases, request.leaseMs);
}
