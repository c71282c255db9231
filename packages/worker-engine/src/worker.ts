import { hostname } from "node:os";
import { type QueueDatabase, QueueError, type QueueStore, SqliteStore, TypedEmitter } from "@queue/core";
import { ClaimLoop } from "./claim-loop.js";
import { Completer } from "./completer.js";
import type { WorkerEvents } from "./events.js";
import { Executor } from "./executor.js";
import type { TaskHandler } from "./handlers.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { type ResolvedWorkerOptions, resolveWorkerOptions, type WorkerOptions, workerStore } from "./options.js";
import { Prefetch } from "./prefetch.js";
import { emptyStats, type Report, type WorkerStats } from "./report.js";
import { Wake } from "./wake.js";
import { WorkWatch } from "./work-watch.js";

export type { WorkerStats } from "./report.js";

export interface StopOptions {
  /** Let running tasks finish (up to `timeoutMs`) before aborting them. Default true. */
  readonly graceful?: boolean;
  /** Default the worker's `shutdownTimeoutMs`. */
  readonly timeoutMs?: number;
}

/**
 * Claims tasks, runs their handlers under a lease and records the outcome. Claims, completions and
 * failures share transactions: one write transaction records the finished tasks and claims the next
 * batch, so each task costs well under two write transactions at load.
 *
 * A facade over the roles that do the work: the claim loop (claim-loop.ts, with its modes in
 * loop-modes.ts) claims into the slots and the tasks claimed ahead (prefetch.ts); the executor
 * (executor.ts) runs each attempt with its handler context (handler-context.ts) and asks the
 * outcome policy (outcome-policy.ts) where it goes; the completer (completer.ts) batches the
 * outcomes into the next tick; the lease keeper (lease-keeper.ts) renews leases; the work watch
 * (work-watch.ts) knows when a claim may find work, and polls when idle.
 */
export class Worker<Types extends object = Record<string, unknown>, Results extends object = Record<never, never>>
  extends TypedEmitter<WorkerEvents>
  implements AsyncDisposable
{
  /** Where the worker claims from and records to. */
  readonly store: QueueStore;
  readonly id: string;
  readonly options: ResolvedWorkerOptions;
  readonly stats: WorkerStats = emptyStats();
  readonly #ownsStore: boolean;
  #state: "new" | "running" | "stopping" | "stopped" = "new";
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  readonly #wake = new Wake();
  readonly #watch: WorkWatch;
  readonly #executor: Executor;
  readonly #prefetch: Prefetch;
  readonly #loop: ClaimLoop;
  readonly #leases: LeaseKeeper;
  #unsubscribeLocal?: () => void;
  #onSignal?: () => void;
  #drained?: () => void;

  constructor(options: WorkerOptions<Types, Results>) {
    super();
    this.options = resolveWorkerOptions(options as WorkerOptions<object>);
    this.id = this.options.workerId;
    const handlers: Readonly<Record<string, TaskHandler | undefined>> = Object.freeze({
      ...(options.handlers as Record<string, TaskHandler>),
    });
    const { store, owned } = workerStore(options as WorkerOptions<object>);
    this.store = store;
    this.#ownsStore = owned;
    // The roles report through the facade's events (emit stays protected: bound here).
    const report: Report = { stats: this.stats, emit: this.emit.bind(this), listenerCount: this.listenerCount.bind(this) };
    const wake = this.#wake;
    const workerId = this.id;
    this.#watch = new WorkWatch(store, this.options, wake);
    const completer = new Completer(report, this.#watch);
    this.#executor = new Executor({ store, workerId, options: this.options, handlers, report, completer, wake });
    this.#prefetch = new Prefetch(this.options, this.#executor, completer);
    this.#loop = new ClaimLoop({
      workerId,
      options: this.options,
      store,
      report,
      wake,
      watch: this.#watch,
      completer,
      executor: this.#executor,
      prefetch: this.#prefetch,
    });
    const { leaseMs, heartbeatMs } = this.options;
    this.#leases = new LeaseKeeper({
      workerId,
      leaseMs,
      heartbeatMs,
      store,
      report,
      executor: this.#executor,
      completer,
      prefetch: this.#prefetch,
      wake,
    });
  }

  /** The SQLite database the worker's store runs on; INVALID_STATE for a store of another backend. */
  get db(): QueueDatabase {
    if (this.store instanceof SqliteStore) return this.store.db;
    throw new QueueError(
      "INVALID_STATE",
      `Worker ${this.id} runs on a ${this.store.backend} store, which has no SQLite database; use worker.store.`,
    );
  }

  get state(): "new" | "running" | "stopping" | "stopped" {
    return this.#state;
  }

  /** Ids of the tasks running now. */
  get activeTaskIds(): number[] {
    return [...this.#executor.running.keys()];
  }

  /**
   * The handlers that have not returned yet. After `stop()` these are handlers that ignored their
   * AbortSignal past the grace period: their tasks' outcomes are recorded (released, retried or
   * cancelled) but their code still runs, and may keep the process alive (a timer, a socket).
   */
  get runningHandlers(): { readonly taskId: number; readonly type: string; readonly runningMs: number }[] {
    const now = performance.now();
    return [...this.#executor.running.values()]
      .filter((attempt) => attempt.startedAt !== undefined)
      .map((attempt) => ({ taskId: attempt.task.id, type: attempt.task.type, runningMs: Math.round(now - (attempt.startedAt ?? now)) }));
  }

  /** Registers the worker and starts claiming. Safe to call more than once. */
  start(): Promise<void> {
    if (this.#state === "stopping" || this.#state === "stopped") {
      return Promise.reject(new QueueError("INVALID_STATE", `Worker ${this.id} has been stopped; create a new Worker to start again.`));
    }
    this.#starting ??= this.#begin();
    return this.#starting;
  }

  /** Runs until no task is claimable now and none is running, then stops. For scripts and tests. */
  async runUntilEmpty(): Promise<WorkerStats> {
    const drained = new Promise<void>((resolve) => {
      this.#drained = resolve;
      this.#loop.drainWhenEmpty(resolve);
    });
    await this.start();
    this.#wake.signal();
    await drained;
    await this.stop();
    return { ...this.stats };
  }

  /**
   * Stops claiming, lets running tasks finish (graceful, up to the timeout), then aborts the rest
   * and releases their leases so another worker takes them at once. Safe to call more than once.
   */
  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#shutdown(options);
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #begin(): Promise<void> {
    await this.store.registerWorker({ id: this.id, host: hostname(), pid: process.pid, capabilities: this.options.capabilities });
    this.#state = "running";
    this.#leases.start();
    this.#unsubscribeLocal = this.#watch.watchLocalWork(() => this.#state === "running");
    if (this.options.handleSignals) {
      this.#onSignal = () => void this.stop();
      process.once("SIGINT", this.#onSignal);
      process.once("SIGTERM", this.#onSignal);
    }
    this.#loop.start();
  }

  async #shutdown(options: StopOptions): Promise<void> {
    if (this.#starting === undefined) {
      this.#state = "stopped";
      this.#loop.finish();
      if (this.#ownsStore) await this.store.close();
      return;
    }
    await this.#starting.catch(() => undefined);
    this.#state = "stopping";
    // Claims still on their way land in the buffer, released just below.
    await this.#loop.stop();
    // Tasks claimed ahead but never started go back to the queue at once.
    this.#prefetch.releaseAll();
    const graceful = options.graceful ?? true;
    const timeoutMs = options.timeoutMs ?? this.options.shutdownTimeoutMs;
    const { running } = this.#executor;
    // Wait for outcomes to be decided, not for handlers that ignore their abort to end.
    const settled = () => Promise.all([...running.values()].map((attempt) => this.#executor.whenDecided(attempt)));
    if (graceful && running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    for (const attempt of running.values()) this.#executor.abort(attempt, "shutdown");
    await settled();
    await this.#loop.recordRemaining();
    this.#leases.stop();
    await this.store.deregisterWorker(this.id).catch((error: unknown) => this.emit("error", error));
    this.#unsubscribeLocal?.();
    if (this.#onSignal !== undefined) {
      process.off("SIGINT", this.#onSignal);
      process.off("SIGTERM", this.#onSignal);
    }
    this.#state = "stopped";
    this.#loop.finish();
    if (this.#ownsStore) await this.store.close();
    this.#drained?.();
    this.emit("stopped");
  }
}
