// The storage port: every operation the queue's packages need from where tasks are kept, in the
// queue's own terms (enqueue, get, list, cancel, retry, pause), never in SQL. One store per backend
// implements it: SqliteStore (this package, the embedded default) and, for a database shared by
// several hosts, the PostgreSQL store. Code above the port works with any of them.
//
// Each operation is one round trip and, where it writes, one transaction: batched where a caller
// has many (insertTasks). Rows come back as core's TaskRow/TaskLogRow models, which every backend
// produces with the same fields; `taskFromRow` decodes them.
import type { Clock } from "../clock.js";
import type { TaskLogRow } from "../models/task-log-row.js";
import type { TaskRow } from "../models/task-row.js";
import type { WorkerRow } from "../models/worker-row.js";
import type { ClaimableFilter, ExtendResult, Lease } from "../sql/leases.js";
import type { ArchivedTaskRow, FinishedStatus } from "../sql/maintenance.js";
import type { NewTaskRow } from "../sql/tasks.js";
import type { LogLevel, TaskStatus } from "../types.js";
import type { RenewRequest, TickRequest, TickResult } from "./worker-tick.js";

/** What a batch insert wrote: its transaction's time and, per row, the new task's id or the row already stored under its idempotency key. */
export interface InsertedTasks {
  readonly now: number;
  readonly rows: readonly (number | TaskRow)[];
}

/** A page of tasks: by status and type, newest (id descending) or oldest first, after an id. */
export interface TaskListQuery {
  readonly status?: TaskStatus | undefined;
  readonly type?: string | undefined;
  readonly limit: number;
  /** Continue after this id (exclusive), in the list's order. */
  readonly afterId?: number | undefined;
  /** `newest` (id descending, the default) or `oldest` (id ascending). */
  readonly order: "newest" | "oldest";
}

/** Everything the metrics are computed from, read at one instant (one read transaction). */
export interface MetricsReading {
  /** The store's time when it read. */
  readonly now: number;
  readonly depth: Readonly<Record<TaskStatus, number>>;
  /** Queued and leased tasks per type. */
  readonly activeByType: readonly { readonly type: string; readonly status: "queued" | "leased"; readonly count: number }[];
  /** Since when the longest-waiting runnable task has been due; null when none waits. */
  readonly oldestRunnableSince: number | null;
  /** Tasks finished since the window's start, by final status. */
  readonly finished: Readonly<Record<"completed" | "dead_letter" | "cancelled", number>>;
  /** Retries (attempts beyond the first) of the tasks finished since the window's start. */
  readonly retries: number;
  /** Wait and run times (ms) of the most recent completions since the window's start. */
  readonly timings: readonly { readonly wait: number; readonly run: number }[];
  readonly workers: readonly WorkerRow[];
  /** Leased tasks per worker id. */
  readonly leasedByWorker: Readonly<Record<string, number>>;
  /** Leases past their expiry not yet taken over. */
  readonly expiredLeases: number;
  /** Bytes on disk where the backend is a file (SQLite: the database and its WAL); null elsewhere. */
  readonly storage: { readonly bytes: number; readonly walBytes: number } | null;
}

/** Changed tasks after a change cursor, in the order they changed, and the cursor to read on from. */
export interface TaskChanges {
  readonly rows: readonly TaskRow[];
  readonly cursor: string;
}

/** A finished task as retention removes it: its row and its log lines. */
export interface FinishedTaskRecord {
  readonly task: TaskRow;
  readonly logs: readonly TaskLogRow[];
}

/** One batch of retention: which finished tasks to remove, and what to do with them first. */
export interface RemoveFinishedBatch {
  readonly status: FinishedStatus;
  /** Tasks that finished before this time. */
  readonly before: number;
  readonly limit: number;
  /** Also copy them (with their logs) into the archive table. */
  readonly archive: boolean;
  /**
   * Called inside the batch's transaction with the tasks about to be removed, before anything is
   * deleted: whatever it writes (an archive file) is written first. Must be synchronous; if it
   * throws, nothing of the batch is removed and the error is the batch's.
   */
  readonly beforeDelete?: (records: readonly FinishedTaskRecord[]) => void;
}

/** A group of dead-lettered tasks with the same type and error. */
export interface DeadLetterGroupRow {
  readonly type: string;
  readonly error_name: string | null;
  readonly error_message: string | null;
  readonly count: number;
  readonly first_id: number;
  readonly last_finished_at: number;
}

/** A worker as the registry of workers knows it. */
export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly capabilities: readonly string[];
}

/** Whether a claim would take anything now; when not, the next time a task falls due (null: none). */
export type ClaimProbe = { readonly claimable: true } | { readonly claimable: false; readonly nextDue: number | null };

/** Rows written exactly as another store holds them (see `QueueStore.importRows`). */
export interface ImportedRows {
  /** Tasks in any status, with their ids, attempts, leases, results and times. */
  readonly tasks?: readonly TaskRow[];
  /** Log lines, with their ids; each one's task is among `tasks` or already stored. */
  readonly logs?: readonly TaskLogRow[];
  /** Archived tasks (with their logs as JSON), under their ids. */
  readonly archived?: readonly ArchivedTaskRow[];
}

/** The type key that pauses or resumes every type at once. */
export const EVERY_TYPE = "*";

export interface QueueStore {
  /** Which backend this is ("sqlite", "postgres"), for messages and backend-specific tools. */
  readonly backend: string;
  /** Where the tasks are: a file path, or a URL without its password. */
  readonly location: string;
  /** The clock the store writes times with; callers validate and stamp rows with the same one. */
  readonly clock: Clock;

  /**
   * Inserts validated rows in one transaction, all or none. A row whose idempotency key is taken
   * is not inserted: its place in the answer holds the stored row instead of a new id. Workers
   * waiting for work (in this process or, where the backend can, any other) are woken once it
   * has committed.
   */
  insertTasks(rows: readonly NewTaskRow[]): Promise<InsertedTasks>;

  /** One task, or undefined when no task has the id. */
  getTask(id: number): Promise<TaskRow | undefined>;

  /** The tasks stored under these idempotency keys (keys no task has are left out), in no order. */
  tasksByIdempotencyKeys(keys: readonly string[]): Promise<TaskRow[]>;

  /** A page of tasks (see TaskListQuery); an unknown status is refused with INVALID_ARGUMENT. */
  listTasks(query: TaskListQuery): Promise<TaskRow[]>;

  /**
   * The queued and leased tasks whose type starts with `typePrefix` (every such task for ""), in id
   * order, in one read.
   */
  listUnfinishedTasks(typePrefix: string): Promise<TaskRow[]>;

  /** How many tasks are in each status (every status present, 0 when none). */
  countTasksByStatus(): Promise<Record<TaskStatus, number>>;

  /**
   * Cancels a task atomically: a queued one at once; a leased one is marked, and its worker aborts
   * the handler at its next renewal. A cancelled task is returned as it is. NOT_FOUND for no such
   * task, INVALID_STATE for a finished one.
   */
  cancelTask(id: number): Promise<TaskRow>;

  /** Sends a dead-lettered task back to the queue, attempts reset, and wakes workers. NOT_FOUND or INVALID_STATE otherwise. */
  retryDeadLetterTask(id: number): Promise<TaskRow>;

  /** Stops claiming of one type (or of {@link EVERY_TYPE}) by every worker; enqueueing goes on. */
  pauseType(type: string): Promise<void>;
  /** Lets claiming of the type (or of every type) go on, and wakes workers. */
  resumeType(type: string): Promise<void>;
  /** The paused type keys ({@link EVERY_TYPE} when the whole queue is paused). */
  pausedTypes(): Promise<string[]>;

  /** A task's log lines, oldest first, at most `limit`. */
  taskLogs(taskId: number, limit?: number): Promise<TaskLogRow[]>;

  /**
   * Deletes finished tasks (completed, dead-lettered, cancelled) by id, with their logs, in one
   * transaction; others are left alone. The newest task is always kept, so that no id is ever
   * given to a second task. Returns how many were deleted.
   */
  deleteFinishedTasks(ids: readonly number[]): Promise<number>;

  /**
   * Removes those of the given tasks that are still queued, with their logs, in one transaction: a
   * task claimed, finished or cancelled meanwhile (or no longer there) is left alone. Unlike
   * `deleteFinishedTasks`, the newest task is removed too when it is queued (SQLite may then give
   * its id to the next task). `beforeCommit`, when given and some task was removed, is called
   * inside the transaction with the ids removed (in the order given) before it commits: whatever it
   * writes (the registry that takes the work over) is written first. Must be synchronous; if it
   * throws, no task is removed and the error is the call's. Resolves with the ids removed.
   */
  removeQueuedTasks(ids: readonly number[], beforeCommit?: (removedIds: readonly number[]) => void): Promise<number[]>;

  /** Everything the metrics need, in one read: finished counts, retries and timings since `since` (at most `latencySample` timings). */
  readMetrics(query: { readonly since: number; readonly latencySample: number }): Promise<MetricsReading>;

  /** Appends a line to a task's log; `details` is JSON text or null. Resolves with the line's id. */
  appendTaskLog(taskId: number, level: LogLevel, message: string, details: string | null): Promise<number>;
  /** The newest log lines of any task, newest first, optionally of some levels only. */
  recentTaskLogs(limit: number, levels?: readonly LogLevel[]): Promise<TaskLogRow[]>;
  /** Deletes at most `limit` log lines written before `before`, in one transaction; returns how many. */
  deleteTaskLogsBefore(before: number, limit: number): Promise<number>;

  /**
   * The change cursor: tasks changed after `cursor` (an opaque string from an earlier answer, or
   * undefined to start from the first task), in the order they changed, at most `limit`. Follow it
   * from any process to see every task's changes.
   */
  changesAfter(cursor: string | undefined, limit: number): Promise<TaskChanges>;
  /** A cursor at the newest change now: follow it to see only what changes from here on. */
  latestChange(): Promise<string>;

  // Maintenance: each operation is one short transaction over at most `limit` rows, so a large
  // cleanup runs as many small batches while workers keep going. The newest task is never
  // removed (its id would be given to the next task).

  /** How many tasks in `status` finished before `before` (what a cleanup would remove). */
  countFinishedBefore(status: FinishedStatus, before: number): Promise<number>;
  /** How many log lines were written before `before`. */
  countTaskLogsBefore(before: number): Promise<number>;
  /** Removes one batch of finished tasks (see RemoveFinishedBatch); returns how many were deleted and archived. */
  removeFinishedBatch(batch: RemoveFinishedBatch): Promise<{ readonly deleted: number; readonly archived: number }>;
  /** Archived tasks with ids above `afterId`, in id order. */
  archivedTasks(afterId: number, limit: number): Promise<ArchivedTaskRow[]>;
  /** Puts up to `limit` archived tasks (all, or the given ids) back under their ids; ids in use are skipped. Returns the ids restored. */
  restoreArchivedBatch(ids: readonly number[] | undefined, limit: number): Promise<number[]>;
  /** How many tasks the archive holds. */
  countArchived(): Promise<number>;
  /** Dead-lettered tasks grouped by type and error, largest group first. */
  deadLetterGroups(type?: string): Promise<DeadLetterGroupRow[]>;
  /** Sends up to `limit` dead-lettered tasks (of one type, or all) back to the queue, attempts reset, and wakes workers; returns their ids. */
  retryDeadLetterBatch(type: string | undefined, limit: number): Promise<number[]>;
  /** Deletes up to `limit` dead-lettered tasks (of one type, or all) with their logs; returns how many. */
  purgeDeadLetterBatch(type: string | undefined, limit: number): Promise<number>;
  /** Ends expired leases now: each task is queued again, dead-lettered (no attempts left) or cancelled (a cancel was pending). */
  recoverExpiredLeases(): Promise<TaskRow[]>;
  /** Removes workers whose last heartbeat is before `before`; returns their ids. */
  deleteStaleWorkers(before: number): Promise<string[]>;
  /** When each maintenance job last ran (ms), by job name. */
  maintenanceRuns(): Promise<Map<string, number>>;
  /** Records that `job` ran at `at` (ms), with its result (JSON text) or null. */
  recordMaintenanceRun(job: string, at: number, result: string | null): Promise<void>;

  // Moving a queue to another store (`queue migrate-backend`): read everything page by page, and
  // write it on the other side as it is, not as new tasks.

  /** Every task's log lines after the line `afterId`, in id order, at most `limit`. */
  taskLogPage(afterId: number, limit: number): Promise<TaskLogRow[]>;
  /**
   * Writes rows exactly as given (ids, statuses, attempts, lease tokens, results, times), in one
   * transaction, all or none: for copying a queue from another store, never for new work. Tasks are
   * written before log lines. A task, log or archive id already in use fails the whole call (a typed
   * error; nothing is written). Afterwards new tasks and log lines get ids above every id written
   * (SQLite does this by itself; PostgreSQL moves its sequences). The tasks written are changes for
   * the change cursor, and waiting workers are woken.
   */
  importRows(rows: ImportedRows): Promise<void>;

  // Workers: each write by a worker is checked against its lease token, so a late answer after
  // the lease was lost changes nothing.

  /**
   * Whether several `recordAndClaim` calls may be in flight at once, off the caller's thread (a
   * database thread, a network round trip): a worker then sends its next claim without waiting.
   */
  readonly pipelined: boolean;
  /** Adds (or refreshes) a worker in the registry of workers. */
  registerWorker(worker: WorkerInfo): Promise<void>;
  /** Removes a worker from the registry. */
  deregisterWorker(workerId: string): Promise<void>;
  /** The workers in the registry, by id, with their last heartbeats. */
  listWorkers(): Promise<WorkerRow[]>;
  /**
   * One transaction: records finished attempts (completions and failures, each checked against
   * its lease; a lost lease changes nothing and says so), then recovers expired leases and claims
   * up to `limit` runnable tasks in the claim's order under one new lease token.
   */
  recordAndClaim(request: TickRequest): Promise<TickResult>;
  /** Notes the worker alive and extends its leases (when it gives any); reports which were lost and which have a cancel waiting. */
  renewLeases(request: RenewRequest): Promise<ExtendResult | undefined>;
  /** Stores a running task's progress; false if the lease was lost (nothing written). */
  setTaskProgress(lease: Lease, progress: number): Promise<boolean>;
  /** Appends a line to a running task's log; false if the lease was lost (nothing written). */
  appendLeasedTaskLog(lease: Lease, level: LogLevel, message: string, details: string | null): Promise<boolean>;
  /** A read: would a claim with this filter take anything now? (No write lock is taken.) */
  probeClaimable(filter: ClaimableFilter): Promise<ClaimProbe>;
  /**
   * An opaque number that changes when another connection (process) may have written to the
   * queue since it was last read: cheap enough for an idle worker to poll often. Equal marks mean
   * nothing was written by others; a mark from `recordAndClaim` compares with this one.
   */
  writeMark(): Promise<number>;
  /**
   * Calls `listener` when work is enqueued, retried or resumed through this store's backend in this
   * process (where the backend can, in any process). `waiting`, if given, tells producers in this
   * process whether the listener's worker has taken everything the queue had for it (it is waiting
   * for work), which they use to size their group commits. Returns the function that stops it.
   */
  onWork(listener: () => void, waiting?: () => boolean): () => void;

  /** Releases what the store opened (a connection, a pool); a store handed an open connection leaves it open. Safe to call twice. */
  close(): Promise<void>;
}
