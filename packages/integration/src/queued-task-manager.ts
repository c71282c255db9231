import { QueueClient } from "@queue/client";
import {
  canUseDatabaseThread,
  DatabaseThread,
  isServerLocation,
  openQueueDatabase,
  openQueueStore,
  type QueueDatabase,
  QueueError,
  type QueueStore,
  resolveStoreLocation,
  SqliteStore,
} from "@queue/core";
import { EmbeddedWorker, type EmbeddedWorkerTuning } from "./embedded-worker.js";
import type { PausedIntakeMode } from "./intake.js";
import { ManagerLifecycle } from "./manager-lifecycle.js";
import { PendingRuns } from "./pending-runs.js";
import { RegistrySync } from "./registry-sync.js";
import { isFinal, type Run, type RunRequest, runStatusOf, scheduledTimeOf } from "./run.js";
import { RunRegistry } from "./run-registry.js";
import { resolveRunAttempts, runKey } from "./run-task.js";
import { RunWriter } from "./run-writer.js";
import type { ModuleHandler, TaskManager } from "./task-manager.js";

export type { EmbeddedWorkerTuning } from "./embedded-worker.js";
export { RUN_TASK_TYPE_PREFIX, runHandlers, runTaskType } from "./run-task.js";

export interface QueuedTaskManagerOptions {
  /**
   * The store the runs are kept in (SQLite, PostgreSQL, or any backend of the storage port); not
   * closed by the manager. Or give `db` or `path` for SQLite, `url` for PostgreSQL.
   */
  readonly store?: QueueStore;
  /** An open database (not closed by the manager), or a path to open. */
  readonly db?: QueueDatabase;
  /**
   * A SQLite file to open (default: QUEUE_DB_PATH, else the per-user data directory); closed by
   * `close()`. A postgres:// URL here (or in QUEUE_DB_PATH) opens that database, as `url` does.
   */
  readonly path?: string;
  /** Or a PostgreSQL database to open: a postgres:// or postgresql:// URL (`?schema=NAME`; needs @queue/postgres); closed by `close()`. */
  readonly url?: string;
  readonly registry?: RunRegistry;
  /**
   * Run the registered modules in a worker in this process (default), or leave them to separate
   * `queue work` processes (false). Numbers tune the embedded worker.
   */
  readonly embeddedWorker?: boolean | EmbeddedWorkerTuning;
  /**
   * Attempts a failing run gets. Default 1: a run that throws is failed, as in memory; raise it to
   * have failed runs retried with backoff.
   */
  readonly maxAttempts?: number;
  /**
   * Further attempts kept for a run whose process dies mid-run (kill -9, power loss): such a run is
   * picked up again once its lease expires, by this process after a restart or by another worker.
   * Failures never use them. Default 1; 0 makes runs at-most-once: a run whose process died is
   * failed, and the embedded worker then claims no run ahead of a free slot.
   */
  readonly crashRecoveries?: number;
  /** How often run state is read back from the queue (runs finished by other processes). Default 1 s with an embedded worker, else 100 ms. */
  readonly syncIntervalMs?: number;
  /** While intake is paused: refuse new runs ("reject", the default) or hold them until resumed. */
  readonly pausedIntake?: PausedIntakeMode;
  /**
   * Write to the queue from a thread of the manager's own (default false): the runs started, and
   * the embedded worker's claims, outcomes and lease renewals, are written there on a second
   * connection to the file, while this thread runs the modules. It about halves the CPU time a run
   * takes on this thread, which keeps an application's event loop (a web server's, say) free for
   * its own work; but each claim then waits for an answer from the other thread, so a burst of
   * short runs completes more slowly (see docs/performance.md). Status reads, cancels, progress and
   * logs stay on this connection; a write among them waits (blocking, as SQLite's busy timeout
   * does) for the thread's transaction of the moment, a millisecond or so. Ignored for `:memory:`
   * or a database on a test clock; while the thread starts, and should it fail or stop, the writes
   * run on this connection. A thread that could not start or stopped by itself is reported as a
   * process warning (`process.on("warning")`, code {@link DATABASE_THREAD_STOPPED}); the runs a
   * claim in its care took, unanswered, go back to the queue at once. SQLite only (not with `store`;
   * ignored for a PostgreSQL URL, whose writes are network round trips that leave the thread free).
   */
  readonly databaseThread?: boolean;
}

/** The module a manager's database thread runs: the build's JavaScript, or the TypeScript source under test. */
function managerThreadModule(): URL {
  return new URL(`./manager-thread.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);
}

/** The code of the process warning a manager emits when its database thread could not start or stopped. */
export const DATABASE_THREAD_STOPPED = "QUEUE_DATABASE_THREAD_STOPPED";

/**
 * The same interface as BackgroundTaskManager, backed by the durable queue: runs survive restarts,
 * can be executed by workers in other processes, and are retried and recovered like any task.
 *
 * A facade over its parts: the run writer (run-writer.ts) writes the runs started as tasks, the
 * embedded worker (embedded-worker.ts) executes them in this process, the registry sync
 * (registry-sync.ts) brings their state back into the RunRegistry, and the pending runs
 * (pending-runs.ts) are what waitAll() waits for.
 */
export class QueuedTaskManager extends ManagerLifecycle implements TaskManager {
  readonly kind = "queue";
  readonly registry: RunRegistry;
  /** Where the runs are kept. */
  readonly store: QueueStore;
  /** The database the manager opened (and closes), if it opened one. */
  readonly #ownDb: QueueDatabase | undefined;
  /** The server's store the manager opened for a URL (and closes), if it opened one. */
  readonly #ownStore: QueueStore | undefined;
  readonly #client: QueueClient;
  readonly #thread: DatabaseThread | undefined;
  readonly #writer: RunWriter;
  /** Undefined when runs are left to separate `queue work` processes. */
  readonly #embedded: EmbeddedWorker | undefined;
  readonly #modules = new Map<string, ModuleHandler>();
  /** Runs started here that the registry does not yet show as finished. */
  readonly #pending = new PendingRuns();
  readonly #sync: RegistrySync;
  readonly #timer: NodeJS.Timeout;
  #closed = false;

  constructor(options: QueuedTaskManagerOptions = {}) {
    super(options.pausedIntake);
    // Checked before the file is opened, so a bad setting leaves nothing open.
    const attempts = resolveRunAttempts(options);
    checkStoreOptions(options);
    const location =
      options.db === undefined && options.store === undefined ? resolveStoreLocation(options, "QueuedTaskManager") : undefined;
    const server = location !== undefined && isServerLocation(location) ? openQueueStore({ location }) : undefined;
    this.#ownStore = server;
    const opened = location !== undefined && server === undefined ? openQueueDatabase({ path: location }) : undefined;
    this.#ownDb = opened;
    const db = opened ?? options.db;
    const threaded = db !== undefined && options.databaseThread === true && canUseDatabaseThread(db);
    const thread = threaded ? new DatabaseThread(db, managerThreadModule()) : undefined;
    this.#thread = thread;
    // The client's store is the one every part writes through (on the thread, when there is one).
    const given = options.store ?? server;
    this.#client = new QueueClient(
      given !== undefined ? { store: given } : { db, ...(thread === undefined ? {} : { databaseThread: thread }) },
    );
    const store = this.#client.store;
    this.store = store;
    const registry = options.registry ?? new RunRegistry({ clock: store.clock });
    this.registry = registry;
    const embedded = options.embeddedWorker ?? true;
    // With an embedded worker, events record the runs this process executes and the timer only
    // has to catch runs finished elsewhere; without one, the timer is how runs are noticed.
    const sync = new RegistrySync(store, registry, this.#pending);
    this.#sync = sync;
    this.#writer = new RunWriter({ client: this.#client, thread, registry, attempts, pending: this.#pending, sync });
    this.#embedded =
      embedded === false
        ? undefined
        : new EmbeddedWorker({
            store,
            tuning: embedded === true ? {} : embedded,
            attempts,
            modules: this.#modules,
            registry,
            sync,
            closed: () => this.#closed,
          });
    if (thread !== undefined) void this.#warnIfStopped(thread);
    this.#timer = setInterval(() => void sync.syncIfWritten(), options.syncIntervalMs ?? (embedded === false ? 100 : 1_000));
    this.#timer.unref();
  }

  /** The SQLite database the runs are kept in; INVALID_STATE when the manager runs on a store of another backend. */
  get db(): QueueDatabase {
    if (this.store instanceof SqliteStore) return this.store.db;
    throw new QueueError(
      "INVALID_STATE",
      `This manager runs on a ${this.store.backend} store, which has no SQLite database; use manager.store.`,
    );
  }

  /** The thread this manager writes from (see the `databaseThread` option), if it has one: its `ready` and `alive` say how it is doing. */
  get databaseThread(): DatabaseThread | undefined {
    return this.#thread;
  }

  registerModule(moduleId: string, handler: ModuleHandler): void {
    // A new module needs a worker built for it before the next run starts.
    if (!this.#modules.has(moduleId)) this.#embedded?.moduleAdded();
    this.#modules.set(moduleId, handler);
    this.#embedded?.startSoon();
  }

  startTask(request: RunRequest): Promise<Run> {
    try {
      if (this.#embedded !== undefined && !this.#modules.has(request.moduleId)) {
        throw new QueueError("NOT_FOUND", `No module ${JSON.stringify(request.moduleId)} is registered; call registerModule() first.`);
      }
      // A scheduledFor that is not a date is refused now, before the run is registered.
      scheduledTimeOf(request);
    } catch (error) {
      return Promise.reject(error);
    }
    // Neither wait is needed in the usual case (intake open, worker running): each would cost a
    // turn, and a run started in a burst of thousands would hold an async frame meanwhile.
    if (this.intake.paused || this.#embedded?.ready !== true) return this.#startAfterWaits(request);
    return this.#writer.write(request);
  }

  /**
   * Starts a run once intake admits it and the worker runs its module. A chain rather than an async
   * function: a burst of runs started before the worker is up (right after registerModule) each
   * waits here, and an async frame apiece cost ten times the memory.
   */
  #startAfterWaits(request: RunRequest): Promise<Run> {
    const admitted = this.intake.paused ? this.intake.admit() : undefined;
    const ready = admitted === undefined ? this.#ensureWorker() : admitted.then(() => this.#ensureWorker());
    return ready.then(() => this.#writer.write(request));
  }

  #ensureWorker(): Promise<void> {
    return this.#embedded === undefined ? Promise.resolve() : this.#embedded.ensure();
  }

  async cancelTask(runId: string): Promise<boolean> {
    const [task] = await this.#client.store.tasksByIdempotencyKeys([runKey(runId)]);
    if (task === undefined || isFinal(runStatusOf(task.status))) return false;
    try {
      await this.#client.cancel(task.id);
    } catch (error) {
      // It finished between the look and the cancel.
      if ((error as { code?: string }).code === "INVALID_STATE") return false;
      throw error;
    }
    await this.#sync.syncAfterWrite();
    return true;
  }

  /** Resolves when every run started here has finished, or when the manager is closed. */
  async waitAll(): Promise<void> {
    // One read now (unless nothing else has written since the last); after that, worker events and
    // the sync timer update the runs and wake us.
    await this.#sync.syncIfWritten();
    await this.#pending.drained(() => this.#closed);
  }

  getActiveTaskCount(): number {
    return this.getActiveTaskIds().length;
  }

  /**
   * Runs of this manager that are queued or running, whichever process runs them: as the registry
   * knows them, from this process's worker at once and from other processes by the periodic sync
   * (`syncIntervalMs`). `await manager.refresh()` first to read the queue now.
   */
  getActiveTaskIds(): string[] {
    return this.#pending.map((runId) => runId);
  }

  isTaskActive(runId: string): boolean {
    return this.#pending.has(runId);
  }

  /** Reads the state of this manager's unfinished runs from the queue now (runs finished by other processes included). */
  refresh(): Promise<void> {
    return this.#sync.sync();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.closing(async () => {
        clearInterval(this.#timer);
        await this.#embedded?.stop();
        await this.#sync.syncAfterWrite();
        await this.#writer.drain();
        await this.#client.close();
        await this.#thread?.close();
        this.registry.save();
        this.#ownDb?.close();
        await this.#ownStore?.close();
      });
    } finally {
      this.#pending.wakeAll();
    }
  }

  /** A thread that could not start, or stopped while the manager is open, is reported as a process warning. */
  async #warnIfStopped(thread: DatabaseThread): Promise<void> {
    const reason = await thread.stopped;
    if (reason === undefined || this.#closed) return;
    process.emitWarning(
      `${reason.message.replace(/\.$/, "")}. The queue's writes go on through the manager's own connection, on the application's thread.`,
      {
        type: "QueueWarning",
        code: DATABASE_THREAD_STOPPED,
      },
    );
  }
}

/** A store is already open: the options that open or thread a SQLite file do not go with it. */
function checkStoreOptions(options: QueuedTaskManagerOptions): void {
  if (options.db !== undefined && (options.path !== undefined || options.url !== undefined)) {
    throw new QueueError(
      "INVALID_CONFIG",
      `Give QueuedTaskManager either db or ${options.path === undefined ? "url" : "path"}, not both: the database is already open.`,
    );
  }
  if (options.store === undefined) return;
  const also = (["db", "path", "url", "databaseThread"] as const).filter((name) => options[name] !== undefined);
  if (also.length > 0) {
    throw new QueueError(
      "INVALID_CONFIG",
      `Give QueuedTaskManager either store or ${also.join("/")}, not both: the store is already open.`,
    );
  }
}
