import { GROUP_COMMIT_BATCH, GroupCommitter, groupCommitBatchSize, QueueClient, type Settled } from "@queue/client";
import {
  canUseDatabaseThread,
  DatabaseThread,
  enqueueSpansActive,
  openQueueDatabase,
  type QueueDatabase,
  QueueError,
  type Task,
  type TaskError,
  type TaskStatus,
} from "@queue/core";
import { type RecordedOutcome, Worker } from "@queue/worker-engine";
import type { PausedIntakeMode } from "./intake.js";
import { ManagerLifecycle } from "./manager-lifecycle.js";
import { isFinal, isoTime, type Run, type RunRequest, runStatusOf, runWith, scheduledTimeOf } from "./run.js";
import { RunRegistry } from "./run-registry.js";
import {
  executeRun,
  RUN_KEY_PREFIX,
  type RunAttempts,
  type RunPayload,
  type RunResult,
  type RunWorkerContext,
  resolveRunAttempts,
  runIdOfKey,
  runKey,
  runTaskInput,
  runTaskType,
} from "./run-task.js";
import { exitCodeOf, type ModuleHandler, type TaskManager } from "./task-manager.js";

export { RUN_TASK_TYPE_PREFIX, runHandlers, runTaskType } from "./run-task.js";

/** Settings of the embedded worker. */
export interface EmbeddedWorkerTuning {
  readonly concurrency?: number;
  readonly leaseMs?: number;
  readonly heartbeatMs?: number;
  readonly pollIntervalMs?: number;
  /**
   * The worker's claim-ahead (see Worker's `prefetch`). Default "auto" when runs have attempts
   * to spare, else 0: a claim spends an attempt, and a run claimed ahead by a process that then
   * dies must not fail without having run.
   */
  readonly prefetch?: number | "auto";
}

export interface QueuedTaskManagerOptions {
  /** An open database (not closed by the manager), or a path to open. */
  readonly db?: QueueDatabase;
  readonly path?: string;
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
   * claim in its care took, unanswered, go back to the queue at once.
   */
  readonly databaseThread?: boolean;
}

/** The module a manager's database thread runs: the build's JavaScript, or the TypeScript source under test. */
function managerThreadModule(): URL {
  return new URL(`./manager-thread.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url);
}

/** PRAGMA data_version of the database thread's connection (served there by the worker's ops). */
function threadDataVersion(thread: DatabaseThread): Promise<number> {
  return thread.call<number>("worker.dataVersion", undefined);
}

/** The code of the process warning a manager emits when its database thread could not start or stopped. */
export const DATABASE_THREAD_STOPPED = "QUEUE_DATABASE_THREAD_STOPPED";

/** The periodic sync reads the queue at least once in this many intervals, written to or not. */
const FULL_SYNC_EVERY = 10;

interface TaskState {
  readonly key: string;
  readonly status: TaskStatus;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly error: string | null;
  readonly result: string | null;
}

/**
 * The same interface as BackgroundTaskManager, backed by the durable queue: runs survive restarts,
 * can be executed by workers in other processes, and are retried and recovered like any task.
 */
export class QueuedTaskManager extends ManagerLifecycle implements TaskManager {
  readonly kind = "queue";
  readonly registry: RunRegistry;
  readonly db: QueueDatabase;
  readonly #ownsDb: boolean;
  readonly #client: QueueClient;
  readonly #thread: DatabaseThread | undefined;
  /**
   * Writes the runs started in one turn of the event loop together. It holds only the run and its
   * promise until then: the task's row is built when its batch is written, so a burst of thousands
   * of starts does not keep a row, a second promise and their closures alive per run meanwhile.
   */
  readonly #writer: GroupCommitter<Run, Run>;
  readonly #embedded: false | EmbeddedWorkerTuning;
  #worker: Worker | undefined;
  /** How many modules the current embedded worker was built for: modules are only ever added, so a new count means a new module. */
  #workerModuleCount = 0;
  /** The current worker has started and runs every registered module. */
  #workerReady = false;
  /** Workers replaced after more modules were registered, finishing their running tasks. */
  readonly #retiring: Promise<void>[] = [];
  readonly #modules = new Map<string, ModuleHandler>();
  /** Runs started here that the registry does not yet show as finished. */
  readonly #pending = new Set<string>();
  readonly #timer: NodeJS.Timeout;
  readonly #attempts: RunAttempts;
  #started: Promise<void> | undefined;
  /** waitAll() calls waiting for a wake-up; each leaves the set when it wakes or its timer fires. */
  readonly #waiters = new Set<() => void>();
  #closed = false;
  #workerPending = false;
  /** PRAGMA data_version at the last sync: unchanged means no other connection has written since. */
  #syncedVersion = -1;
  #skippedSyncs = 0;

  constructor(options: QueuedTaskManagerOptions = {}) {
    super(options.pausedIntake);
    // Checked before the file is opened, so a bad setting leaves nothing open.
    this.#attempts = resolveRunAttempts(options);
    this.#ownsDb = options.db === undefined;
    this.db = options.db ?? openQueueDatabase(options.path === undefined ? {} : { path: options.path });
    this.registry = options.registry ?? new RunRegistry({ clock: this.db.clock });
    const embedded = options.embeddedWorker ?? true;
    const threaded = options.databaseThread === true && canUseDatabaseThread(this.db);
    this.#thread = threaded ? new DatabaseThread(this.db, managerThreadModule()) : undefined;
    this.#client = new QueueClient({ db: this.db, ...(this.#thread === undefined ? {} : { databaseThread: this.#thread }) });
    const path = this.db.path;
    this.#writer = new GroupCommitter(
      (runs) => this.#writeRuns(runs),
      // Written on the database thread, a batch holds up nothing here: full size.
      () => (this.#thread?.serving === true ? GROUP_COMMIT_BATCH : groupCommitBatchSize(path)),
      (run, error) => this.#notEnqueued(run, error),
    );
    this.#embedded = embedded === false ? false : embedded === true ? {} : embedded;
    // With an embedded worker, events record the runs this process executes and the timer only
    // has to catch runs finished elsewhere; without one, the timer is how runs are noticed.
    // No run of this manager is pending yet: a sync is due only once another connection writes.
    this.#syncedVersion = this.#thread === undefined ? this.db.dataVersion() : -1;
    if (this.#thread !== undefined) {
      void this.#noteThreadVersion(this.#thread);
      void this.#warnIfStopped(this.#thread);
    }
    this.#timer = setInterval(() => void this.#syncIfWritten(), options.syncIntervalMs ?? (embedded === false ? 100 : 1_000));
    this.#timer.unref();
  }

  /** The thread this manager writes from (see the `databaseThread` option), if it has one: its `ready` and `alive` say how it is doing. */
  get databaseThread(): DatabaseThread | undefined {
    return this.#thread;
  }

  registerModule(moduleId: string, handler: ModuleHandler): void {
    // A new module needs a worker built for it before the next run starts.
    if (!this.#modules.has(moduleId)) this.#workerReady = false;
    this.#modules.set(moduleId, handler);
    // The embedded worker starts (or is rebuilt to claim the new module's runs too) once the
    // registrations made in this tick are done, so runs left queued by an earlier process resume
    // without waiting for a new startTask. A start failure surfaces on the next startTask.
    if (this.#embedded === false || this.#workerPending) return;
    this.#workerPending = true;
    setImmediate(() => {
      this.#workerPending = false;
      this.#ensureWorker().catch(() => undefined);
    });
  }

  startTask(request: RunRequest): Promise<Run> {
    try {
      if (this.#embedded !== false && !this.#modules.has(request.moduleId)) {
        throw new QueueError("NOT_FOUND", `No module ${JSON.stringify(request.moduleId)} is registered; call registerModule() first.`);
      }
      // A scheduledFor that is not a date is refused now, before the run is registered.
      scheduledTimeOf(request);
    } catch (error) {
      return Promise.reject(error);
    }
    // Neither wait is needed in the usual case (intake open, worker running): each would cost a
    // turn, and a run started in a burst of thousands would hold an async frame meanwhile.
    if (this.intake.paused || !this.#workerReady) return this.#startAfterWaits(request);
    return this.#enqueueRun(request);
  }

  /**
   * Starts a run once intake admits it and the worker runs its module. A chain rather than an async
   * function: a burst of runs started before the worker is up (right after registerModule) each
   * waits here, and an async frame apiece cost ten times the memory.
   */
  #startAfterWaits(request: RunRequest): Promise<Run> {
    const admitted = this.intake.paused ? this.intake.admit() : undefined;
    const ready = admitted === undefined ? this.#ensureWorker() : admitted.then(() => this.#ensureWorker());
    return ready.then(() => this.#enqueueRun(request));
  }

  #enqueueRun(request: RunRequest): Promise<Run> {
    let run: Run;
    try {
      // Frozen here, so the registry keeps this object rather than a copy of it.
      run = this.registry.add(runWith(request, { status: "queued", createdAt: isoTime(this.db.clock.now()) }));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#pending.add(run.id);
    // With tracing on, the run's send span must start in its caller's context, not in that of the
    // batch it is written with: the client enqueues it now (group-committed all the same).
    if (enqueueSpansActive()) return this.#enqueueNow(run);
    return this.#writer.submit(run);
  }

  #enqueueNow(run: Run): Promise<Run> {
    let enqueued: Promise<{ readonly created: boolean }>;
    try {
      const task = this.#taskOf(run);
      enqueued = this.#client.enqueue(task.type, task.payload, task.options);
    } catch (error) {
      this.#notEnqueued(run, error);
      return Promise.reject(error);
    }
    return enqueued.then(
      ({ created }) => {
        if (!created) this.#syncAfterWrite();
        return run;
      },
      (error: unknown) => {
        this.#notEnqueued(run, error);
        throw error;
      },
    );
  }

  /** The task that carries `run`. A scheduled run's time is read from the run again (startTask checked it). */
  #taskOf(run: Run): ReturnType<typeof runTaskInput> {
    return runTaskInput(run, this.#attempts, scheduledTimeOf(run));
  }

  /** Writes one batch of runs as tasks, in one transaction; a run that cannot be written fails alone. */
  async #writeRuns(runs: readonly Run[]): Promise<Settled<Run>[]> {
    const outcomes = await this.#client.enqueueEach(runs.map((run) => this.#taskOf(run)));
    let known = false;
    const settled = outcomes.map((outcome, index): Settled<Run> => {
      if (!outcome.ok) return outcome;
      if (!outcome.value.created) known = true;
      return { ok: true, value: runs[index] as Run };
    });
    if (known) this.#syncAfterWrite();
    return settled;
  }

  /**
   * Some run ids were in the file already (runs of an earlier process): read their state now. The
   * runs are written whatever happens here; a failed read is left to the periodic sync.
   */
  #syncAfterWrite(): void {
    try {
      this.#sync();
    } catch {
      // The next periodic sync reads them.
    }
  }

  /** Marks a run whose task could not be written as failed (its startTask rejects with `error`). */
  #notEnqueued(run: Run, error: unknown): void {
    this.#pending.delete(run.id);
    this.#wakeIfDrained();
    this.registry.update(run.id, {
      status: "failed",
      error: (error as Error).message,
      finishedAt: isoTime(this.db.clock.now()),
    });
  }

  async cancelTask(runId: string): Promise<boolean> {
    const task = this.db
      .statement<{ id: number; status: TaskStatus }>("SELECT id, status FROM tasks WHERE idempotency_key = ?")
      .get(runKey(runId));
    if (task === undefined || isFinal(runStatusOf(task.status))) return false;
    try {
      await this.#client.cancel(task.id);
    } catch (error) {
      // It finished between the look and the cancel.
      if ((error as { code?: string }).code === "INVALID_STATE") return false;
      throw error;
    }
    this.#sync();
    return true;
  }

  /** Resolves when every run started here has finished, or when the manager is closed. */
  async waitAll(): Promise<void> {
    // One read now (unless nothing else has written since the last); after that, worker events and
    // the sync timer update the runs and wake us.
    await this.#syncIfWritten();
    for (;;) {
      if (this.#pending.size === 0 || this.#closed) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, 50);
        timer.unref();
        this.#waiters.add(wake);
      });
    }
  }

  getActiveTaskCount(): number {
    return this.getActiveTaskIds().length;
  }

  /** Runs of this manager that are queued or running in the queue right now, whichever process runs them. */
  getActiveTaskIds(): string[] {
    if (this.#pending.size === 0) return [];
    return this.db
      .statement<{ key: string }>(
        `SELECT idempotency_key AS key FROM tasks WHERE idempotency_key IN (SELECT value FROM json_each(?)) AND status IN ('queued', 'leased')`,
      )
      .all(JSON.stringify([...this.#pending].map(runKey)))
      .map((row) => runIdOfKey(row.key));
  }

  isTaskActive(runId: string): boolean {
    return this.#pending.has(runId) && this.getActiveTaskIds().includes(runId);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.closing(async () => {
        clearInterval(this.#timer);
        await Promise.all([this.#worker?.stop(), ...this.#retiring]);
        this.#sync();
        await this.#writer.drain();
        await this.#client.close();
        await this.#thread?.close();
        this.registry.save();
        if (this.#ownsDb) this.db.close();
      });
    } finally {
      this.#wakeWaiters();
    }
  }

  /** Builds (or rebuilds, when modules were added) the embedded worker for the registered modules. */
  #ensureWorker(): Promise<void> {
    try {
      return this.#ensureWorkerNow();
    } catch (error) {
      // A worker that cannot even be built (bad tuning) fails the runs waiting for it, never the caller's stack.
      return Promise.reject(error);
    }
  }

  #ensureWorkerNow(): Promise<void> {
    if (this.#embedded === false || this.#closed) return Promise.resolve();
    // The usual case, on every startTask: a worker already runs every registered module.
    if (this.#worker !== undefined && this.#workerModuleCount === this.#modules.size) return this.#started ?? Promise.resolve();
    const modules = [...this.#modules.keys()].sort();
    const previous = this.#worker;
    const tuning = this.#embedded;
    const worker = new Worker({
      db: this.db,
      ...(this.#thread === undefined ? {} : { databaseThread: this.#thread }),
      concurrency: tuning.concurrency ?? 8,
      ...(tuning.leaseMs === undefined ? {} : { leaseMs: tuning.leaseMs }),
      // Cancels reach a running handler at the next lease renewal: renew often.
      heartbeatMs: tuning.heartbeatMs ?? 500,
      pollIntervalMs: tuning.pollIntervalMs ?? 20,
      prefetch: tuning.prefetch ?? (this.#attempts.maxAttempts + this.#attempts.crashRecoveries > 1 ? "auto" : 0),
      handlers: Object.fromEntries(
        modules.map((moduleId) => [
          runTaskType(moduleId),
          (payload: unknown, context: RunWorkerContext) => this.#execute(payload as RunPayload, context),
        ]),
      ),
    });
    // Runs this process executes are recorded from the worker's events; the sync timer covers the rest.
    worker.on("recorded", (task, outcome) => this.#record(task, outcome));
    // Expired leases recovered through this connection change runs without a task event.
    worker.on("recovered", () => {
      this.#syncedVersion = -1;
    });
    this.#worker = worker;
    this.#workerModuleCount = modules.length;
    // The replaced worker stops claiming at once and finishes what it is running.
    if (previous !== undefined) this.#retiring.push(previous.stop());
    this.#workerReady = false;
    this.#started = worker.start().then(() => {
      // Not if a module was registered meanwhile: that one needs the next worker.
      if (this.#worker === worker && this.#workerModuleCount === this.#modules.size) this.#workerReady = true;
    });
    return this.#started;
  }

  #record(task: Task, outcome: RecordedOutcome): void {
    const key = task.idempotencyKey;
    if (typeof key !== "string" || !key.startsWith(RUN_KEY_PREFIX)) return;
    // #apply reads the time (and result, error) only for an outcome that finished the run.
    this.#apply(key, outcome.status, task.startedAt?.getTime() ?? null, outcome.at, outcome.result, outcome.error?.message);
    this.#wakeIfDrained();
  }

  #execute(payload: RunPayload, context: RunWorkerContext): Promise<RunResult> {
    return executeRun(
      this.#modules,
      payload,
      context,
      this.registry.get(payload.runId) === undefined ? undefined : this.registry,
      this.db.clock.now(),
    );
  }

  /**
   * Reads the state of this manager's unfinished runs from the queue into the registry. Unless
   * `force`d, it skips the read when no other connection has written since the last one (this
   * connection's own changes arrive as worker events), but reads at least every
   * {@link FULL_SYNC_EVERY} calls all the same.
   */
  #sync(force = true, version?: number): void {
    if (this.#pending.size === 0 || !this.db.isOpen) return;
    // -1: not known (see #syncIfWritten); then it reads.
    const seen = version ?? (this.#thread === undefined ? this.db.dataVersion() : -1);
    if (!force && seen !== -1 && seen === this.#syncedVersion && this.#skippedSyncs < FULL_SYNC_EVERY) {
      this.#skippedSyncs += 1;
      return;
    }
    this.#syncedVersion = seen;
    this.#skippedSyncs = 0;
    const rows = this.db
      .statement<TaskState>(
        `SELECT idempotency_key AS key, status, started_at, finished_at, error, result FROM tasks WHERE idempotency_key IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify([...this.#pending].map(runKey)));
    for (const row of rows) {
      // The result matters only for a completed run, the error only for a failed one.
      const status = runStatusOf(row.status);
      const result = status === "completed" && row.result !== null ? JSON.parse(row.result) : undefined;
      const error = status === "failed" && row.error !== null ? (JSON.parse(row.error) as TaskError).message : undefined;
      this.#apply(row.key, row.status, row.started_at, row.finished_at, result, error);
    }
    this.#wakeIfDrained();
  }

  /**
   * A sync that reads only if another connection has written since the last one (see #sync). With
   * a database thread, the writes this process makes (and learns of through worker events) are the
   * thread's: its connection's data_version is the one that moves only when another one writes.
   */
  async #syncIfWritten(): Promise<void> {
    if (this.#pending.size === 0) return;
    try {
      // Never one connection's count compared with the other's: until the thread serves, not known.
      const thread = this.#thread;
      const version = thread === undefined ? this.db.dataVersion() : thread.serving ? await threadDataVersion(thread) : -1;
      this.#sync(false, version);
    } catch {
      // The next one tries again.
    }
  }

  /**
   * With a database thread, the version the syncs compare is the thread connection's, known once it
   * serves. Taken then unless a sync has read since: another connection's write after it moves it.
   */
  async #noteThreadVersion(thread: DatabaseThread): Promise<void> {
    if (!(await thread.ready) || this.#syncedVersion !== -1) return;
    const version = await threadDataVersion(thread).catch(() => -1);
    if (this.#syncedVersion === -1) this.#syncedVersion = version;
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

  /**
   * Brings one run's registry entry in line with its task's state, as a worker event or a read of
   * the row reported it. `result` and `error` matter only for a finished run.
   */
  #apply(
    key: string,
    taskStatus: TaskStatus,
    startedAt: number | null,
    finishedAt: number | null,
    result: unknown,
    error: string | undefined,
  ): void {
    const runId = runIdOfKey(key);
    if (!this.#pending.has(runId)) return;
    const run = this.registry.get(runId);
    if (run === undefined) return;
    const status = runStatusOf(taskStatus);
    const final = isFinal(status);
    if (status === run.status && !final) return;
    const patch: { -readonly [K in keyof Run]?: Run[K] } = { status };
    if (startedAt !== null && run.startedAt === undefined) patch.startedAt = isoTime(startedAt);
    if (final) {
      const endedAt = finishedAt ?? this.db.clock.now();
      patch.finishedAt = isoTime(endedAt);
      patch.durationMs = endedAt - (startedAt ?? endedAt);
      patch.exitCode = status === "completed" ? exitCodeOf(result) : status === "failed" ? 1 : undefined;
      if (status === "failed" && error !== undefined) patch.error = error;
      this.#pending.delete(runId);
    }
    this.registry.update(runId, patch);
  }

  #wakeWaiters(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** waitAll() only waits for this: waking it at every finished run would cost a timer each. */
  #wakeIfDrained(): void {
    if (this.#pending.size === 0) this.#wakeWaiters();
  }
}
