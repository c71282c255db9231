// The storage port on PostgreSQL: every operation is one statement on the pool, or one transaction
// on one of its connections where it writes more than once or must read one state.
import { randomUUID } from "node:crypto";
import {
  type ArchivedTaskRow,
  type ClaimableFilter,
  type ClaimProbe,
  type Clock,
  type DeadLetterGroupRow,
  type ExtendResult,
  type FinishedStatus,
  type ImportedRows,
  type InsertedTasks,
  type Lease,
  type LogLevel,
  type MetricsReading,
  type NewTaskRow,
  notifyLocalWorkers,
  onLocalWork,
  QueueError,
  type QueueStore,
  type RemoveFinishedBatch,
  type RenewRequest,
  systemClock,
  type TaskChanges,
  type TaskListQuery,
  type TaskLogRow,
  type TaskRow,
  type TaskStatus,
  type TickRequest,
  type TickResult,
  taskNotFound,
  type WorkerInfo,
  type WorkerRow,
} from "@queue/core";
import pg from "pg";
import { type Db, inTransaction, onPool, type TransactionOptions } from "./db.js";
import { checkSchemaName, DEFAULT_SCHEMA, parseLocation, poolLocation, quoteIdentifier } from "./location.js";
import { migratePostgres } from "./migrations/runner.js";
import { DEFAULT_CHANGE_WAIT_MS, latestChange, tasksChangedAfter } from "./sql/changes.js";
import { hasClaimable } from "./sql/claim.js";
import * as copying from "./sql/import.js";
import { insertLeasedTaskLog } from "./sql/leases.js";
import {
  countTaskLogsBefore,
  deleteTaskLogsBefore,
  insertTaskLog,
  selectLogsOfTasks,
  selectRecentTaskLogs,
  selectTaskLogs,
} from "./sql/logs.js";
import * as maintenance from "./sql/maintenance.js";
import { readMetrics } from "./sql/metrics.js";
import * as registry from "./sql/registry.js";
import * as tasks from "./sql/tasks.js";
import { WorkListener, workChannel } from "./wakeup.js";
import { renewWorker, runTick } from "./worker-writes.js";

export interface PostgresStoreOptions {
  /** A postgres:// or postgresql:// URL; `?schema=NAME` picks the schema. The store opens (and closes) a pool on it. */
  readonly url?: string;
  /** A pool the application already has; the store never closes it. Give `url` or `pool`. */
  readonly pool?: pg.Pool;
  /** The schema the queue's tables live in (default: the URL's `schema` parameter, else `queue`). Created if missing. */
  readonly schema?: string;
  /** Connections in the pool the store opens (default 10). */
  readonly maxConnections?: number;
  /**
   * How long a call waits (ms) for a connection of the store's pool to come free, or for a new one
   * to connect, before it fails with TIMEOUT (`details.reason` "pool-exhausted") or
   * DATABASE_UNAVAILABLE (default 10000). A worker reports it and tries again.
   */
  readonly connectionTimeoutMs?: number;
  /**
   * The server's `statement_timeout` (ms) for the store's connections: a statement that runs (or
   * waits for a lock) longer fails with TIMEOUT (`details.reason` "statement"). Default: the
   * server's setting.
   */
  readonly statementTimeoutMs?: number;
  /** The clock times are written with (default: the system clock). */
  readonly clock?: Clock;
  /**
   * How long a change-feed read waits (ms) for transactions still in flight below changes already
   * committed, before it answers only what is final (default 2000; see `changesAfter`).
   */
  readonly changeWaitMs?: number;
}

/** How long a call waits for a pooled connection by default (see `connectionTimeoutMs`). */
const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;

export class PostgresStore implements QueueStore {
  readonly backend = "postgres";
  readonly location: string;
  readonly clock: Clock;
  /** The schema the tables live in. */
  readonly schema: string;
  /** Ticks are network round trips: a worker may send its next claim while one is in flight. */
  readonly pipelined = true;
  /** The pool the store runs on. */
  readonly pool: pg.Pool;
  readonly #ownsPool: boolean;
  readonly #changeWaitMs: number;
  readonly #quoted: string;
  readonly #channel: string;
  /** This store's own NOTIFY payload, which its listener ignores. */
  readonly #self = randomUUID();
  #ready: Promise<void> | undefined;
  #listener: WorkListener | undefined;
  #closed: Promise<void> | undefined;

  /** Opens a store and migrates its schema before resolving. */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.migrate();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /** A store on `url` or `pool`. The schema is migrated on first use (or by `migrate()`). */
  constructor(options: PostgresStoreOptions) {
    this.clock = options.clock ?? systemClock;
    this.#changeWaitMs = options.changeWaitMs ?? DEFAULT_CHANGE_WAIT_MS;
    if (options.pool !== undefined) {
      this.schema = checkSchemaName(options.schema ?? DEFAULT_SCHEMA);
      this.pool = options.pool;
      this.#ownsPool = false;
      this.location = poolLocation(options.pool, this.schema);
    } else if (options.url !== undefined) {
      const parsed = parseLocation(options.url, options.schema);
      this.schema = parsed.schema;
      this.location = parsed.location;
      this.pool = new pg.Pool({
        connectionString: parsed.connectionString,
        max: options.maxConnections ?? 10,
        connectionTimeoutMillis: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
        ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
        // A peer that vanished without closing the connection (a host or network gone) is noticed.
        keepAlive: true,
      });
      // An idle connection the server drops must not crash the process; the next query reconnects.
      this.pool.on("error", () => undefined);
      this.#ownsPool = true;
    } else {
      throw new QueueError("INVALID_CONFIG", "A PostgreSQL store needs a url (postgres://…) or a pg Pool.", { details: { option: "url" } });
    }
    this.#quoted = quoteIdentifier(this.schema);
    this.#channel = workChannel(this.schema);
  }

  /** Creates or upgrades the schema (once per store); a schema newer than this code is refused with SCHEMA_TOO_NEW. */
  migrate(): Promise<void> {
    this.#ready ??= migratePostgres({ pool: this.pool, schema: this.schema, location: this.location, now: () => this.clock.now() }).then(
      () => undefined,
      (error: unknown) => {
        // The server may be back by the next call (a restart, a network blip): that call tries again.
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async #transaction<T>(work: (db: Db) => Promise<T>, options?: TransactionOptions): Promise<T> {
    this.#assertOpen();
    await this.migrate();
    return inTransaction(this.pool, this.#quoted, this.location, work, options);
  }

  async #read<T>(work: (db: Db) => Promise<T>): Promise<T> {
    this.#assertOpen();
    await this.migrate();
    return onPool(this.pool, this.#quoted, this.location, work);
  }

  #assertOpen(): void {
    if (this.#closed !== undefined) throw new QueueError("CLOSED", `The queue store at ${this.location} is closed.`);
  }

  /** Sends this schema's wake-up, delivered to every listener when the transaction commits. */
  async #notify(db: Db): Promise<void> {
    await db.rows("SELECT pg_notify($1, $2)", [this.#channel, this.#self]);
  }

  /** Wakes this process's waiting workers at once (others hear the NOTIFY). */
  #wakeLocal(): void {
    notifyLocalWorkers(this.location);
  }

  async insertTasks(rows: readonly NewTaskRow[]): Promise<InsertedTasks> {
    const inserted = await this.#transaction(async (db) => {
      const now = this.clock.now();
      const result = await tasks.insertTasks(db, rows, now);
      if (result.some((row) => typeof row === "number")) await this.#notify(db);
      return { now, rows: result };
    });
    if (inserted.rows.some((row) => typeof row === "number")) this.#wakeLocal();
    return inserted;
  }

  getTask(id: number): Promise<TaskRow | undefined> {
    return this.#read((db) => tasks.selectTask(db, id));
  }

  tasksByIdempotencyKeys(keys: readonly string[]): Promise<TaskRow[]> {
    return this.#read((db) => tasks.selectTasksByIdempotencyKeys(db, keys));
  }

  listTasks(query: TaskListQuery): Promise<TaskRow[]> {
    return this.#read((db) => tasks.listTasks(db, query));
  }

  countTasksByStatus(): Promise<Record<TaskStatus, number>> {
    return this.#read((db) => tasks.countTasksByStatus(db));
  }

  cancelTask(id: number): Promise<TaskRow> {
    return this.#transaction(async (db) => {
      const now = this.clock.now();
      const changed = (await tasks.cancelQueuedTask(db, id, now)) ?? (await tasks.requestCancelLeasedTask(db, id, now));
      if (changed !== undefined) {
        await this.#notify(db);
        return changed;
      }
      const current = await tasks.selectTask(db, id);
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
    const row = await this.#transaction(async (db) => {
      const retried = await tasks.retryDeadLetterTask(db, id, this.clock.now());
      if (retried !== undefined) {
        await this.#notify(db);
        return retried;
      }
      const current = await tasks.selectTask(db, id);
      if (current === undefined) throw taskNotFound(id);
      throw new QueueError("INVALID_STATE", `Task ${id} is ${current.status}; only dead-lettered tasks can be retried.`, {
        details: { id, status: current.status },
      });
    });
    this.#wakeLocal();
    return row;
  }

  async pauseType(type: string): Promise<void> {
    await this.#transaction(async (db) => {
      await registry.pauseType(db, type, this.clock.now());
      await this.#notify(db);
    });
  }

  async resumeType(type: string): Promise<void> {
    const resumed = await this.#transaction(async (db) => {
      const was = await registry.resumeType(db, type);
      if (was) await this.#notify(db);
      return was;
    });
    if (resumed) this.#wakeLocal();
  }

  pausedTypes(): Promise<string[]> {
    return this.#read((db) => registry.pausedTypes(db));
  }

  taskLogs(taskId: number, limit?: number): Promise<TaskLogRow[]> {
    return this.#read((db) => selectTaskLogs(db, taskId, limit));
  }

  listUnfinishedTasks(typePrefix: string): Promise<TaskRow[]> {
    return this.#read((db) => tasks.listUnfinishedTasks(db, typePrefix));
  }

  removeQueuedTasks(ids: readonly number[], beforeCommit?: (removedIds: readonly number[]) => void): Promise<number[]> {
    return this.#transaction(async (db) => {
      const removed = await tasks.deleteQueuedTasks(db, ids);
      // Inside the transaction: whatever the hook writes is written before the tasks are gone, and
      // a hook that throws rolls the removal back.
      if (removed.length > 0) beforeCommit?.(removed);
      return removed;
    });
  }

  listWorkers(): Promise<WorkerRow[]> {
    return this.#read((db) => registry.listWorkers(db));
  }

  deleteFinishedTasks(ids: readonly number[]): Promise<number> {
    return this.#read((db) => maintenance.deleteFinishedTasks(db, ids));
  }

  readMetrics(query: { readonly since: number; readonly latencySample: number }): Promise<MetricsReading> {
    return this.#transaction((db) => readMetrics(db, this.clock.now(), query.since, query.latencySample), {
      begin: "ISOLATION LEVEL REPEATABLE READ READ ONLY",
    });
  }

  appendTaskLog(taskId: number, level: LogLevel, message: string, details: string | null): Promise<number> {
    return this.#read((db) => insertTaskLog(db, taskId, level, message, details, this.clock.now()));
  }

  recentTaskLogs(limit: number, levels?: readonly LogLevel[]): Promise<TaskLogRow[]> {
    return this.#read((db) => selectRecentTaskLogs(db, limit, levels));
  }

  deleteTaskLogsBefore(before: number, limit: number): Promise<number> {
    return this.#read((db) => deleteTaskLogsBefore(db, before, limit));
  }

  changesAfter(cursor: string | undefined, limit: number): Promise<TaskChanges> {
    return this.#read((db) => tasksChangedAfter(db, cursor, limit, this.#changeWaitMs));
  }

  latestChange(): Promise<string> {
    return this.#read((db) => latestChange(db, this.#changeWaitMs));
  }

  countFinishedBefore(status: FinishedStatus, before: number): Promise<number> {
    return this.#read((db) => maintenance.countFinishedBefore(db, status, before));
  }

  countTaskLogsBefore(before: number): Promise<number> {
    return this.#read((db) => countTaskLogsBefore(db, before));
  }

  removeFinishedBatch(batch: RemoveFinishedBatch): Promise<{ deleted: number; archived: number }> {
    return this.#transaction(async (db) => {
      const rows = await maintenance.selectFinishedBefore(db, batch.status, batch.before, batch.limit);
      const ids = rows.map((row) => row.id);
      if (rows.length > 0 && batch.beforeDelete !== undefined) {
        const logs = await selectLogsOfTasks(db, ids);
        batch.beforeDelete(rows.map((task) => ({ task, logs: logs.filter((line) => line.task_id === task.id) })));
      }
      const archived = batch.archive ? await maintenance.archiveTasks(db, ids, this.clock.now()) : 0;
      return { deleted: await maintenance.deleteTasks(db, ids), archived };
    });
  }

  archivedTasks(afterId: number, limit: number): Promise<ArchivedTaskRow[]> {
    return this.#read((db) => maintenance.selectArchived(db, afterId, limit));
  }

  restoreArchivedBatch(ids: readonly number[] | undefined, limit: number): Promise<number[]> {
    return this.#transaction((db) => maintenance.restoreArchivedTasks(db, ids, limit));
  }

  countArchived(): Promise<number> {
    return this.#read((db) => maintenance.countArchived(db));
  }

  taskLogPage(afterId: number, limit: number): Promise<TaskLogRow[]> {
    return this.#transaction(
      async (db) => {
        await copying.useSchema(db);
        return copying.selectTaskLogPage(db, afterId, limit);
      },
      { begin: "READ ONLY" },
    );
  }

  async importRows(rows: ImportedRows): Promise<void> {
    const tasks = rows.tasks ?? [];
    await this.#transaction(async (db) => {
      await copying.useSchema(db);
      await copying.importTasks(db, tasks);
      await copying.importTaskLogs(db, rows.logs ?? []);
      await copying.importArchivedTasks(db, rows.archived ?? []);
      await copying.moveIdSequences(db);
      if (tasks.length > 0) await this.#notify(db);
    });
    if (tasks.length > 0) this.#wakeLocal();
  }

  deadLetterGroups(type?: string): Promise<DeadLetterGroupRow[]> {
    return this.#read((db) => maintenance.summarizeDeadLetters(db, type));
  }

  async retryDeadLetterBatch(type: string | undefined, limit: number): Promise<number[]> {
    const ids = await this.#transaction(async (db) => {
      const retried = await maintenance.retryDeadLetters(db, type, limit, this.clock.now());
      if (retried.length > 0) await this.#notify(db);
      return retried;
    });
    if (ids.length > 0) this.#wakeLocal();
    return ids;
  }

  purgeDeadLetterBatch(type: string | undefined, limit: number): Promise<number> {
    return this.#read((db) => maintenance.purgeDeadLetters(db, type, limit));
  }

  async recoverExpiredLeases(): Promise<TaskRow[]> {
    const rows = await this.#transaction(async (db) => {
      const recovered = await tasks.recoverExpiredLeases(db, this.clock.now());
      if (recovered.some((row) => row.status === "queued")) await this.#notify(db);
      return recovered;
    });
    if (rows.some((row) => row.status === "queued")) this.#wakeLocal();
    return rows;
  }

  deleteStaleWorkers(before: number): Promise<string[]> {
    return this.#read((db) => registry.deleteStaleWorkers(db, before));
  }

  maintenanceRuns(): Promise<Map<string, number>> {
    return this.#read((db) => registry.maintenanceRuns(db));
  }

  async recordMaintenanceRun(job: string, at: number, result: string | null): Promise<void> {
    await this.#read((db) => registry.recordMaintenanceRun(db, job, at, result));
  }

  async registerWorker(worker: WorkerInfo): Promise<void> {
    await this.#read((db) => registry.registerWorker(db, worker, this.clock.now()));
  }

  async deregisterWorker(workerId: string): Promise<void> {
    await this.#read((db) => registry.deregisterWorker(db, workerId));
  }

  async recordAndClaim(request: TickRequest): Promise<TickResult> {
    // Read before the claim: a wake-up that arrives while it runs makes the marks differ, and the
    // worker looks again rather than sleeping on work it did not see.
    // The mark as this process has heard it so far, without a round trip: a notification still on
    // its way arrives later and makes the next writeMark() differ (one more claim, never one less).
    const listener = this.#startListening();
    await listener.start();
    const writeMark = listener.mark;
    const { requeued, ...result } = await this.#transaction(async (db) => {
      const outcome = await runTick(db, request, { now: this.clock.now(), writeMark });
      if (outcome.requeued) await this.#notify(db);
      return outcome;
    });
    if (requeued) this.#wakeLocal();
    return result;
  }

  renewLeases(request: RenewRequest): Promise<ExtendResult | undefined> {
    return this.#transaction((db) => renewWorker(db, request, this.clock.now()));
  }

  setTaskProgress(lease: Lease, progress: number): Promise<boolean> {
    return this.#read((db) => tasks.setTaskProgress(db, lease.taskId, lease.token, progress, this.clock.now()));
  }

  appendLeasedTaskLog(lease: Lease, level: LogLevel, message: string, details: string | null): Promise<boolean> {
    return this.#read((db) => insertLeasedTaskLog(db, lease, level, message, details, this.clock.now()));
  }

  probeClaimable(filter: ClaimableFilter): Promise<ClaimProbe> {
    return this.#read(async (db) => {
      const now = this.clock.now();
      return (await hasClaimable(db, filter, now)) ? { claimable: true } : { claimable: false, nextDue: await tasks.nextDueTime(db, now) };
    });
  }

  /** How many wake-ups from other stores (and listener reconnects) this store has heard; starts listening on first use. */
  async writeMark(): Promise<number> {
    this.#assertOpen();
    return this.#startListening().sync();
  }

  onWork(listener: () => void, waiting?: () => boolean): () => void {
    const stop = onLocalWork(this.location, listener, waiting);
    if (this.#closed === undefined) void this.#startListening().start();
    return stop;
  }

  #startListening(): WorkListener {
    this.#listener ??= new WorkListener({
      connection: this.pool.options,
      channel: this.#channel,
      self: this.#self,
      onWork: () => this.#wakeLocal(),
    });
    return this.#listener;
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#listener?.close();
      if (this.#ownsPool) await this.pool.end();
    })();
    return this.#closed;
  }
}
