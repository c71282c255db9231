import { statSync } from "node:fs";
// The storage port on SQLite: every operation is a function of core's SQL modules run in one
// transaction (writes) or one read on the store's QueueDatabase.
import type { Clock } from "../clock.js";
import { QueueDatabase } from "../database.js";
import type { DatabaseThread, DatabaseThreadOps } from "../database-thread.js";
import { QueueError } from "../errors.js";
import { notifyLocalWorkers, onLocalWork } from "../local-wakeup.js";
import type { TaskLogRow } from "../models/task-log-row.js";
import type { TaskRow } from "../models/task-row.js";
import type { WorkerRow } from "../models/worker-row.js";
import { type OpenQueueDatabaseOptions, openQueueDatabase } from "../open.js";
import { latestChange, tasksChangedAfterCursor } from "../sql/changes.js";
import { importArchivedTasks, importTaskLogs, importTasks, selectTaskLogPage } from "../sql/import.js";
import { type ClaimableFilter, type ExtendResult, hasClaimable, type Lease } from "../sql/leases.js";
import { deleteTaskLogsBefore, insertLeasedTaskLog, insertTaskLog, selectRecentTaskLogs, selectTaskLogs } from "../sql/logs.js";
import {
  type ArchivedTaskRow,
  archiveTasks,
  countArchived,
  countFinishedBefore,
  countTaskLogsBefore,
  deleteFinishedTasks,
  deleteQueuedTasks,
  deleteStaleWorkers,
  deleteTasks,
  type FinishedStatus,
  maintenanceRuns,
  purgeDeadLetters,
  recordMaintenanceRun,
  restoreArchivedTasks,
  retryDeadLetters,
  selectArchived,
  selectFinishedBefore,
  selectLogsOfTask,
  summarizeDeadLetters,
} from "../sql/maintenance.js";
import {
  countActiveByType,
  countExpiredLeases,
  countFinishedSince,
  countRetriesSince,
  leasedByWorker,
  oldestRunnableSince,
  recentTimings,
} from "../sql/metrics.js";
import { pausedTypes, pauseType, resumeType } from "../sql/pauses.js";
import {
  cancelQueuedTask,
  countTasksByStatus,
  insertTaskId,
  listTasks,
  listUnfinishedTasks,
  type NewTaskRow,
  nextDueTime,
  recoverExpiredLeases,
  requestCancelLeasedTask,
  retryDeadLetterTask,
  selectTask,
  selectTasksByIdempotencyKeys,
  setTaskProgress,
} from "../sql/tasks.js";
import { deregisterWorker, listWorkers, registerWorker } from "../sql/workers.js";
import type { LogLevel, TaskStatus } from "../types.js";
import type {
  ClaimProbe,
  DeadLetterGroupRow,
  ImportedRows,
  InsertedTasks,
  MetricsReading,
  QueueStore,
  RemoveFinishedBatch,
  TaskChanges,
  TaskListQuery,
  WorkerInfo,
} from "./port.js";
import { SqliteWorkerWrites, WORKER_THREAD_OPS } from "./sqlite-worker-writes.js";
import type { RenewRequest, TickRequest, TickResult } from "./worker-tick.js";

/** Inserts validated rows in one write transaction (on the caller's connection or a database thread's). */
export function insertTaskRows(db: QueueDatabase, rows: readonly NewTaskRow[]): Promise<InsertedTasks> {
  return db.transaction((tx) => {
    const now = tx.clock.now();
    return { now, rows: rows.map((row) => insertTaskId(tx, row, now)) };
  });
}

/** What a database thread must serve for a SqliteStore given `thread`: spread it into the ops given to `serveDatabaseThread`. */
export const STORE_THREAD_OPS = {
  "client.insert": insertTaskRows,
  ...WORKER_THREAD_OPS,
} satisfies DatabaseThreadOps;

export interface SqliteStoreOptions {
  /** Whether `close()` closes the database (true when the store opened it). Default false. */
  readonly ownsDatabase?: boolean;
  /**
   * A thread serving {@link STORE_THREAD_OPS} on its own connection to the same file: inserts and
   * a worker's ticks and renewals run there, beside the caller's code rather than between it.
   * Once it stops, they run on the store's own connection again. Never closed by the store.
   */
  readonly thread?: DatabaseThread;
}

export class SqliteStore implements QueueStore {
  readonly backend = "sqlite";
  /** The connection the store runs on (SQLite-only tools take it: backup, vacuum, checkpoint). */
  readonly db: QueueDatabase;
  readonly #ownsDatabase: boolean;
  readonly #thread: DatabaseThread | undefined;
  readonly #workerWrites: SqliteWorkerWrites;

  /** Opens (creating and migrating as needed) the file and serves the port on it; `close()` closes it. */
  static open(options: OpenQueueDatabaseOptions = {}): SqliteStore {
    return new SqliteStore(openQueueDatabase(options), { ownsDatabase: true });
  }

  constructor(db: QueueDatabase, options: SqliteStoreOptions = {}) {
    this.db = db;
    this.#ownsDatabase = options.ownsDatabase ?? false;
    this.#thread = options.thread;
    this.#workerWrites = new SqliteWorkerWrites(db, options.thread);
  }

  get location(): string {
    return this.db.path;
  }

  get clock(): Clock {
    return this.db.clock;
  }

  async insertTasks(rows: readonly NewTaskRow[]): Promise<InsertedTasks> {
    const local = () => insertTaskRows(this.db, rows);
    const inserted = await (this.#thread?.call<InsertedTasks>("client.insert", rows, local) ?? local());
    notifyLocalWorkers(this.db.path);
    return inserted;
  }

  async getTask(id: number): Promise<TaskRow | undefined> {
    return this.db.read((tx) => selectTask(tx, id));
  }

  async tasksByIdempotencyKeys(keys: readonly string[]): Promise<TaskRow[]> {
    return keys.length === 0 ? [] : this.db.read((tx) => selectTasksByIdempotencyKeys(tx, keys));
  }

  async listTasks(query: TaskListQuery): Promise<TaskRow[]> {
    return this.db.read((tx) => listTasks(tx, query));
  }

  async listUnfinishedTasks(typePrefix: string): Promise<TaskRow[]> {
    return this.db.read((tx) => listUnfinishedTasks(tx, typePrefix));
  }

  async countTasksByStatus(): Promise<Record<TaskStatus, number>> {
    return this.db.read((tx) => countTasksByStatus(tx));
  }

  cancelTask(id: number): Promise<TaskRow> {
    return this.db.transaction((tx) => {
      const now = tx.clock.now();
      const changed = cancelQueuedTask(tx, id, now) ?? requestCancelLeasedTask(tx, id, now);
      if (changed !== undefined) return changed;
      const current = selectTask(tx, id);
      if (current === undefined) throw taskNotFound(id);
      if (current.status !== "cancelled") {
        throw new QueueError("INVALID_STATE", `Task ${id} is ${current.status}; only queued or leased tasks can be cancelled.`, {
          details: { id, status: current.status },
        });
      }
      return current;
    });
  }

  async retryDeadLetterTask(id: number): Promise<TaskRow> {
    const row = await this.db.transaction((tx) => {
      const retried = retryDeadLetterTask(tx, id, tx.clock.now());
      if (retried !== undefined) return retried;
      const current = selectTask(tx, id);
      if (current === undefined) throw taskNotFound(id);
      throw new QueueError("INVALID_STATE", `Task ${id} is ${current.status}; only dead-lettered tasks can be retried.`, {
        details: { id, status: current.status },
      });
    });
    notifyLocalWorkers(this.db.path);
    return row;
  }

  async pauseType(type: string): Promise<void> {
    await this.db.transaction((tx) => pauseType(tx, type, tx.clock.now()));
  }

  async resumeType(type: string): Promise<void> {
    await this.db.transaction((tx) => resumeType(tx, type));
    notifyLocalWorkers(this.db.path);
  }

  async pausedTypes(): Promise<string[]> {
    return this.db.read((tx) => pausedTypes(tx));
  }

  async taskLogs(taskId: number, limit?: number): Promise<TaskLogRow[]> {
    return this.db.read((tx) => selectTaskLogs(tx, taskId, limit));
  }

  deleteFinishedTasks(ids: readonly number[]): Promise<number> {
    return this.db.transaction((tx) => deleteFinishedTasks(tx, ids));
  }

  removeQueuedTasks(ids: readonly number[], beforeCommit?: (removedIds: readonly number[]) => void): Promise<number[]> {
    return this.db.transaction((tx) => {
      const removed = deleteQueuedTasks(tx, ids);
      if (removed.length > 0) beforeCommit?.(removed);
      return removed;
    });
  }

  async readMetrics(query: { readonly since: number; readonly latencySample: number }): Promise<MetricsReading> {
    return this.db.read((tx) => {
      const now = tx.clock.now();
      return {
        now,
        depth: countTasksByStatus(tx),
        activeByType: countActiveByType(tx),
        oldestRunnableSince: oldestRunnableSince(tx, now),
        finished: countFinishedSince(tx, query.since),
        retries: countRetriesSince(tx, query.since),
        timings: recentTimings(tx, query.since, query.latencySample),
        workers: listWorkers(tx),
        leasedByWorker: Object.fromEntries(leasedByWorker(tx)),
        expiredLeases: countExpiredLeases(tx, now),
        storage: databaseFileSizes(tx.path),
      };
    });
  }

  appendTaskLog(taskId: number, level: LogLevel, message: string, details: string | null): Promise<number> {
    return this.db.transaction((tx) => insertTaskLog(tx, taskId, level, message, details, tx.clock.now()));
  }

  async recentTaskLogs(limit: number, levels?: readonly LogLevel[]): Promise<TaskLogRow[]> {
    return this.db.read((tx) => selectRecentTaskLogs(tx, limit, levels));
  }

  deleteTaskLogsBefore(before: number, limit: number): Promise<number> {
    return this.db.transaction((tx) => deleteTaskLogsBefore(tx, before, limit));
  }

  async changesAfter(cursor: string | undefined, limit: number): Promise<TaskChanges> {
    return this.db.read((tx) => tasksChangedAfterCursor(tx, cursor, limit));
  }

  async latestChange(): Promise<string> {
    return this.db.read((tx) => latestChange(tx));
  }

  async countFinishedBefore(status: FinishedStatus, before: number): Promise<number> {
    return this.db.read((tx) => countFinishedBefore(tx, status, before));
  }

  async countTaskLogsBefore(before: number): Promise<number> {
    return this.db.read((tx) => countTaskLogsBefore(tx, before));
  }

  removeFinishedBatch(batch: RemoveFinishedBatch): Promise<{ deleted: number; archived: number }> {
    return this.db.transaction((tx) => {
      const rows = selectFinishedBefore(tx, batch.status, batch.before, batch.limit);
      if (rows.length > 0) batch.beforeDelete?.(rows.map((task) => ({ task, logs: selectLogsOfTask(tx, task.id) })));
      const ids = rows.map((row) => row.id);
      const archived = batch.archive ? archiveTasks(tx, ids, tx.clock.now()) : 0;
      return { deleted: deleteTasks(tx, ids), archived };
    });
  }

  async archivedTasks(afterId: number, limit: number): Promise<ArchivedTaskRow[]> {
    return this.db.read((tx) => selectArchived(tx, afterId, limit));
  }

  restoreArchivedBatch(ids: readonly number[] | undefined, limit: number): Promise<number[]> {
    return this.db.transaction((tx) => restoreArchivedTasks(tx, ids, limit));
  }

  async countArchived(): Promise<number> {
    return this.db.read((tx) => countArchived(tx));
  }

  async taskLogPage(afterId: number, limit: number): Promise<TaskLogRow[]> {
    return this.db.read((tx) => selectTaskLogPage(tx, afterId, limit));
  }

  async importRows(rows: ImportedRows): Promise<void> {
    await this.db.transaction((tx) => {
      importTasks(tx, rows.tasks ?? []);
      importTaskLogs(tx, rows.logs ?? []);
      importArchivedTasks(tx, rows.archived ?? []);
    });
    if ((rows.tasks?.length ?? 0) > 0) notifyLocalWorkers(this.db.path);
  }

  async deadLetterGroups(type?: string): Promise<DeadLetterGroupRow[]> {
    return this.db.read((tx) => summarizeDeadLetters(tx, type));
  }

  async retryDeadLetterBatch(type: string | undefined, limit: number): Promise<number[]> {
    const ids = await this.db.transaction((tx) => retryDeadLetters(tx, type, limit, tx.clock.now()));
    if (ids.length > 0) notifyLocalWorkers(this.db.path);
    return ids;
  }

  purgeDeadLetterBatch(type: string | undefined, limit: number): Promise<number> {
    return this.db.transaction((tx) => purgeDeadLetters(tx, type, limit));
  }

  async recoverExpiredLeases(): Promise<TaskRow[]> {
    const rows = await this.db.transaction((tx) => recoverExpiredLeases(tx, tx.clock.now()));
    if (rows.some((row) => row.status === "queued")) notifyLocalWorkers(this.db.path);
    return rows;
  }

  deleteStaleWorkers(before: number): Promise<string[]> {
    return this.db.transaction((tx) => deleteStaleWorkers(tx, before));
  }

  async maintenanceRuns(): Promise<Map<string, number>> {
    return this.db.read((tx) => maintenanceRuns(tx));
  }

  async recordMaintenanceRun(job: string, at: number, result: string | null): Promise<void> {
    await this.db.transaction((tx) => recordMaintenanceRun(tx, job, at, result));
  }

  get pipelined(): boolean {
    return this.#workerWrites.pipelined;
  }

  async registerWorker(worker: WorkerInfo): Promise<void> {
    const registration = { id: worker.id, host: worker.host, pid: worker.pid, capabilities: JSON.stringify(worker.capabilities) };
    await this.db.transaction((tx) => registerWorker(tx, registration, tx.clock.now()));
  }

  async deregisterWorker(workerId: string): Promise<void> {
    await this.db.transaction((tx) => deregisterWorker(tx, workerId));
  }

  async listWorkers(): Promise<WorkerRow[]> {
    return this.db.read((tx) => listWorkers(tx));
  }

  recordAndClaim(request: TickRequest): Promise<TickResult> {
    return this.#workerWrites.tick(request);
  }

  renewLeases(request: RenewRequest): Promise<ExtendResult | undefined> {
    return this.#workerWrites.renew(request);
  }

  setTaskProgress(lease: Lease, progress: number): Promise<boolean> {
    return this.db.transaction((tx) => setTaskProgress(tx, lease.taskId, lease.token, progress, tx.clock.now()));
  }

  appendLeasedTaskLog(lease: Lease, level: LogLevel, message: string, details: string | null): Promise<boolean> {
    return this.db.transaction((tx) => insertLeasedTaskLog(tx, lease, level, message, details, tx.clock.now()));
  }

  async probeClaimable(filter: ClaimableFilter): Promise<ClaimProbe> {
    return this.db.read((tx) => (hasClaimable(tx, filter) ? { claimable: true } : { claimable: false, nextDue: nextDueTime(tx) }));
  }

  writeMark(): Promise<number> {
    return this.#workerWrites.writeMark();
  }

  onWork(listener: () => void, waiting?: () => boolean): () => void {
    return onLocalWork(this.db.path, listener, waiting);
  }

  async close(): Promise<void> {
    if (this.#ownsDatabase) this.db.close();
  }
}

/** The store to use for `source`: a store as it is, or an open SQLite database served by a SqliteStore (which leaves it open). */
export function asStore(source: QueueStore | QueueDatabase): QueueStore {
  return source instanceof QueueDatabase ? new SqliteStore(source) : source;
}

/** The sizes of a SQLite file and its WAL, in bytes (0 for a file not there); null in memory. */
export function databaseFileSizes(path: string): { bytes: number; walBytes: number } | null {
  if (path === ":memory:" || path === "") return null;
  return {
    bytes: statSync(path, { throwIfNoEntry: false })?.size ?? 0,
    walBytes: statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0,
  };
}

/** The error every store gives for an id no task has. */
export function taskNotFound(id: number): QueueError {
  return new QueueError("NOT_FOUND", `No task with id ${id}; it may have been cleaned up.`, { details: { id } });
}
