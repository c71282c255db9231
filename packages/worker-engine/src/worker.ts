import { hostname } from "node:os";
import {
  deregisterWorker,
  insertLeasedTaskLog,
  LOG_LEVELS,
  type LogLevel,
  nextDueTime,
  onLocalWork,
  openQueueDatabase,
  type QueueDatabase,
  QueueError,
  registerWorker,
  serializeJson,
  setTaskProgress,
  startProcessSpan,
  type Task,
  type TaskError,
  type TaskStatus,
  TypedEmitter,
} from "@queue/core";
import { backoffDelay } from "./backoff.js";
import { isPermanentError, toTaskError } from "./errors.js";
import type { WorkerEvents } from "./events.js";
import type { TaskContext, TaskHandler } from "./handlers.js";
import { type ClaimedTask, extend, type Failure, hasClaimable, type Lease } from "./leases.js";
import { AUTO_PREFETCH_BELOW_MS, type ResolvedWorkerOptions, resolveWorkerOptions, type WorkerOptions } from "./options.js";
import { connectionWrites, type TickRequest, type TickResult, threadCanClaimWith, threadWrites, type WorkerWrites } from "./tick.js";

type AbortReason = "cancel" | "timeout" | "lease-lost" | "shutdown";

interface Running {
  readonly task: Task;
  readonly lease: Lease;
  /** Created when the handler first reads ctx.signal: most handlers never do. */
  controller?: AbortController;
  reason?: AbortReason;
  abortError?: Error;
  /** Called by #abort: starts the grace period (once the handler is running and has not settled). */
  wakeAbort?: () => void;
  /** The last value the handler reported through ctx.progress(). */
  progress?: number;
  /** Its outcome is decided; the lease is no longer renewed through this entry. */
  settled?: boolean;
  /** The outcome is decided (a handler ignoring its abort may run on after that). */
  decided?: boolean;
  /** Resolves once decided; made only when someone waits (shutdown). */
  whenDecided?: Promise<void>;
  onDecided?: () => void;
  /** performance.now() when it was started (claimed-ahead tasks have none until then). */
  readonly startedAt?: number;
}

type Outcome =
  | { readonly running: Running; readonly kind: "complete"; readonly result: string; readonly value: unknown }
  | { readonly running: Running; readonly kind: "fail"; readonly failure: Failure; readonly error: TaskError | null };

export interface WorkerStats {
  claimed: number;
  completed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  cancelled: number;
  leaseLost: number;
  recovered: number;
}

export interface StopOptions {
  /** Let running tasks finish (up to `timeoutMs`) before aborting them. Default true. */
  readonly graceful?: boolean;
  /** Default the worker's `shutdownTimeoutMs`. */
  readonly timeoutMs?: number;
}

const MAX_ERROR_DELAY_MS = 5_000;
/** Ticks a worker whose writes run on a database thread keeps in flight at once. */
const TICKS_IN_FLIGHT = 2;
/** The longest a recorded outcome waits for more to share its transaction. */
const MAX_OUTCOME_DELAY_MS = 20;

/**
 * Claims tasks, runs their handlers under a lease and records the outcome. Claims, completions and
 * failures share transactions: one write transaction records the finished tasks and claims the next
 * batch, so each task costs well under two write transactions at load.
 */
export class Worker<Types extends object = Record<string, unknown>, Results extends object = Record<never, never>>
  extends TypedEmitter<WorkerEvents>
  implements AsyncDisposable
{
  readonly db: QueueDatabase;
  readonly id: string;
  readonly options: ResolvedWorkerOptions;
  readonly stats: WorkerStats = {
    claimed: 0,
    completed: 0,
    failed: 0,
    retried: 0,
    deadLettered: 0,
    cancelled: 0,
    leaseLost: 0,
    recovered: 0,
  };
  readonly #handlers: Readonly<Record<string, TaskHandler | undefined>>;
  readonly #ownsDb: boolean;
  #state: "new" | "running" | "stopping" | "stopped" = "new";
  #starting?: Promise<void>;
  #stopping?: Promise<void>;
  #loopDone: Promise<void> = Promise.resolve();
  readonly #running = new Map<number, Running>();
  /** Claimed ahead (see the prefetch option), leased, waiting for a free slot, in claim order. */
  #buffered: ClaimedTask[] = [];
  #outcomes: Outcome[] = [];
  /** When the oldest unrecorded outcome was recorded in memory (performance.now()). */
  #outcomesSince = 0;
  /** Moving average of handler run times, for prefetch "auto"; undefined until one has finished. */
  #averageRunMs: number | undefined;
  #wake?: () => void;
  #woken = false;
  #heartbeat?: NodeJS.Timeout;
  #unsubscribeLocal?: () => void;
  #onSignal?: () => void;
  #drained?: () => void;
  #nextDue: number | null = null;
  /** The last claim took all it asked for: more tasks are probably waiting. */
  #backlog = true;
  /**
   * False once a claim came up short (the queue had nothing more for this worker) until something
   * may have changed that: work enqueued in this process, a write by another connection, a task
   * falling due, a retry recorded here, or pollIntervalMs passing (expired leases elsewhere). While
   * false, freed slots do not each cost a claim that would find nothing.
   */
  #mayHaveWork = true;
  /** When the last claim ran (performance.now()). */
  #lastClaimAt = 0;
  /** Work announced in this process so far: a tick's "nothing more" must not hide one made during it. */
  #localWork = 0;
  #dataVersion = -1;
  /** The idle poll's next wait: short while other processes are writing, doubling up to pollIntervalMs. */
  #pollDelay: number;
  /** What every handler's context does, made once per worker (see HandlerContext). */
  #contextOps: ContextOps | undefined;
  /** Where ticks, lease renewals and data_version reads run: this connection, or a database thread's. */
  readonly #writes: WorkerWrites;
  /**
   * The writes run on a database thread: a claim is sent and the loop goes on, so that the next
   * one can be on its way before the answer to the first is back (see TICKS_IN_FLIGHT).
   */
  readonly #pipelined: boolean;
  /** Claiming ticks sent and not answered yet, and how many tasks they may bring. */
  readonly #inFlight = new Set<Promise<void>>();
  #claiming = 0;
  /** A claiming tick sent without waiting failed: the loop waits before the next. */
  #sentTickFailed = false;
  #errorDelay: number;

  constructor(options: WorkerOptions<Types, Results>) {
    super();
    this.options = resolveWorkerOptions(options as WorkerOptions<object>);
    this.id = this.options.workerId;
    this.#handlers = Object.freeze({ ...(options.handlers as Record<string, TaskHandler>) });
    this.#pollDelay = this.#shortestPoll();
    this.#errorDelay = this.options.pollIntervalMs;
    this.#ownsDb = options.db === undefined;
    this.db = options.db ?? openQueueDatabase({ ...options.open, ...(options.path === undefined ? {} : { path: options.path }) });
    const thread = options.databaseThread;
    const pipelined = thread !== undefined && threadCanClaimWith(this.options.strategy);
    this.#pipelined = pipelined;
    this.#writes = pipelined ? threadWrites(thread, this.db, this.options.strategy) : connectionWrites(this.db, this.options.strategy);
  }

  get state(): "new" | "running" | "stopping" | "stopped" {
    return this.#state;
  }

  /** Ids of the tasks running now. */
  get activeTaskIds(): number[] {
    return [...this.#running.keys()];
  }

  /**
   * The handlers that have not returned yet. After `stop()` these are handlers that ignored their
   * AbortSignal past the grace period: their tasks' outcomes are recorded (released, retried or
   * cancelled) but their code still runs, and may keep the process alive (a timer, a socket).
   */
  get runningHandlers(): { readonly taskId: number; readonly type: string; readonly runningMs: number }[] {
    const now = performance.now();
    return [...this.#running.values()]
      .filter((running) => running.startedAt !== undefined)
      .map((running) => ({ taskId: running.task.id, type: running.task.type, runningMs: Math.round(now - (running.startedAt ?? now)) }));
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
    });
    await this.start();
    this.#signal();
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
    await this.db.transaction((tx) =>
      registerWorker(
        tx,
        { id: this.id, host: hostname(), pid: process.pid, capabilities: JSON.stringify(this.options.capabilities) },
        tx.clock.now(),
      ),
    );
    this.#state = "running";
    this.#heartbeat = setInterval(() => void this.#renewLeases(), this.options.heartbeatMs);
    this.#unsubscribeLocal = onLocalWork(
      this.db.path,
      () => {
        this.#localWork += 1;
        this.#mayHaveWork = true;
        this.#signal();
      },
      // Producers in this process write in large batches while this worker has taken all there was.
      () => this.#state === "running" && !this.#backlog,
    );
    if (this.options.handleSignals) {
      this.#onSignal = () => void this.stop();
      process.once("SIGINT", this.#onSignal);
      process.once("SIGTERM", this.#onSignal);
    }
    this.#loopDone = this.#loop();
  }

  /**
   * Keeps the slots busy: starts buffered tasks as slots free, and runs a tick (record outcomes,
   * claim more) when enough room has opened for a batch, when an outcome has waited long enough,
   * or when there is nothing else to do.
   */
  async #loop(): Promise<void> {
    while (this.#state === "running") {
      if (this.#sentTickFailed) {
        this.#sentTickFailed = false;
        await this.#afterError();
        continue;
      }
      // Let the handlers just started from the buffer begin (they are invoked in a microtask)
      // before a tick's transaction holds the thread: their waits then overlap it.
      if (this.#startBuffered() > 0) await Promise.resolve();
      const free = this.options.concurrency - this.#running.size;
      const prefetch = this.#prefetch();
      this.#releaseExcess(prefetch);
      const room = free + prefetch - this.#buffered.length - this.#claiming;
      // Without prefetch, every free slot is worth a claim; with it, wait until half the buffer is gone.
      const batch = prefetch === 0 ? 1 : Math.ceil(prefetch / 2);
      const outcomeWait = this.#outcomes.length === 0 ? undefined : MAX_OUTCOME_DELAY_MS - (performance.now() - this.#outcomesSince);
      if (room < batch && (outcomeWait === undefined || outcomeWait > 0)) {
        // Wait for a task to finish (or the oldest outcome's deadline), then let the event loop turn
        // once so every task finishing at about the same time is recorded in one transaction.
        // Under "auto", tasks held ahead are looked at again after a while: a handler that has run
        // long by then turns claiming ahead off, and they go back to the queue.
        const recheck = this.options.prefetch === "auto" && this.#buffered.length > 0 ? AUTO_PREFETCH_BELOW_MS : undefined;
        const waits = [outcomeWait, recheck].filter((ms): ms is number => ms !== undefined);
        await this.#sleep(waits.length === 0 ? undefined : Math.ceil(Math.min(...waits)));
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      // An outcome past its deadline is recorded at once; a claim waits for room for a batch (the
      // buffer still holds tasks then, so no slot is idle meanwhile), and is skipped while the
      // queue is known to hold nothing for this worker (the outcomes are still recorded at once).
      const wantsClaim = room >= batch;
      const limit = wantsClaim && (await this.#mayFindWork()) ? room : 0;
      // runUntilEmpty() waits for each claim: the one that finds nothing is what ends it.
      if (this.#pipelined && limit > 0 && this.#drained === undefined) {
        // Sent without waiting; with as many in flight as allowed, wait for an answer (or a task).
        if (this.#inFlight.size < TICKS_IN_FLIGHT) this.#send(limit);
        else await this.#sleep();
        continue;
      }
      let claimed = 0;
      try {
        // Refill the free slots first and record the finished tasks in a second transaction just
        // after: their record then overlaps the new handlers instead of delaying their start.
        // Only while the queue has a backlog (otherwise the claim finds nothing and costs a
        // transaction), and only without claim-ahead (with it, the freed slots are refilled from
        // the tasks held ahead, and one transaction does both).
        const recordAfter = limit > 0 && prefetch === 0 && this.#outcomes.length > 0 && this.#backlog;
        claimed = await this.#tick(limit, { record: !recordAfter });
        if (limit > 0) this.#backlog = claimed >= limit;
        if (recordAfter) {
          await new Promise((resolve) => setImmediate(resolve));
          // Expired leases are recovered here, after this worker's own outcomes are recorded.
          await this.#tick(0, { recover: true });
        }
        this.#errorDelay = this.options.pollIntervalMs;
        // What was just recorded may have made tasks claimable (a retry due at once): look again
        // before deciding the queue is empty.
        if (recordAfter) continue;
      } catch (error) {
        this.emit("error", error);
        await this.#afterError();
        continue;
      }
      if (limit > 0 && claimed >= limit) continue;
      // Handlers that ignored their abort past the grace keep a slot but have no outcome to wait for.
      const empty =
        claimed === 0 &&
        this.#inFlight.size === 0 &&
        this.#buffered.length === 0 &&
        this.#outcomes.length === 0 &&
        [...this.#running.values()].every((running) => running.settled);
      if (this.#drained !== undefined && empty) {
        this.#drained();
        return;
      }
      if (!wantsClaim) continue;
      // The claim was skipped, and what was just recorded may have put a task back (a retry).
      if (limit === 0 && this.#mayHaveWork) continue;
      // A claim on its way decides whether the queue is dry.
      if (this.#inFlight.size > 0) {
        await this.#sleep();
        continue;
      }
      // The queue ran dry: poll for new work (the tick has started what it claimed). Then let the
      // event loop turn once, so that what woke it (tasks finishing on timers that fired together,
      // runs enqueued by them) is recorded and claimed in one transaction rather than one each.
      await this.#idle();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Waits after a failed tick, twice as long as the last time in a row (up to MAX_ERROR_DELAY_MS). */
  async #afterError(): Promise<void> {
    await this.#sleep(this.#errorDelay);
    this.#errorDelay = Math.min(MAX_ERROR_DELAY_MS, this.#errorDelay * 2);
  }

  /** Sends a claiming tick without waiting for it; its answer wakes the loop. */
  #send(limit: number): void {
    this.#claiming += limit;
    const sent: Promise<void> = this.#tick(limit).then(
      (claimed) => {
        this.#backlog = claimed >= limit;
        this.#errorDelay = this.options.pollIntervalMs;
      },
      (error: unknown) => {
        this.emit("error", error);
        this.#sentTickFailed = true;
      },
    );
    this.#inFlight.add(sent);
    void sent.finally(() => {
      this.#claiming -= limit;
      this.#inFlight.delete(sent);
      this.#signal();
    });
  }

  /**
   * How many tasks to hold beyond free slots now. Under "auto", none until handlers are known to be
   * short, and none while any running handler has already taken longer than that: a long task
   * among short ones must not keep tasks from other workers for its whole run.
   */
  #prefetch(): number {
    const { prefetch, concurrency } = this.options;
    if (prefetch !== "auto") return prefetch;
    if (this.#averageRunMs === undefined || this.#averageRunMs >= AUTO_PREFETCH_BELOW_MS) return 0;
    const now = performance.now();
    for (const running of this.#running.values()) {
      if (!running.settled && running.startedAt !== undefined && now - running.startedAt >= AUTO_PREFETCH_BELOW_MS) return 0;
    }
    return concurrency;
  }

  /** Hands back tasks held beyond what prefetch allows now, while no slot is free to run them. */
  #releaseExcess(prefetch: number): void {
    if (this.#buffered.length <= prefetch || this.#running.size < this.options.concurrency) return;
    for (const { task, lease } of this.#buffered.splice(prefetch)) {
      this.#settle({ task, lease }, "fail", { outcome: "release", error: null }, null);
    }
  }

  /** Starts buffered tasks while slots are free; returns how many. */
  #startBuffered(): number {
    let started = 0;
    while (this.#buffered.length > 0 && this.#running.size < this.options.concurrency) {
      const next = this.#buffered.shift() as ClaimedTask;
      this.#start(next.task, next.lease);
      started += 1;
    }
    return started;
  }

  /**
   * One write transaction: record finished tasks (unless `record` is false), recover expired
   * leases (with `recover`, by default whenever it records and claims), claim up to `limit`.
   * Claimed tasks start right after the commit, then the events are emitted. Returns how many rows
   * the claim took.
   */
  async #tick(limit: number, options: { readonly record?: boolean; readonly recover?: boolean } = {}): Promise<number> {
    const record = options.record ?? true;
    const recover = options.recover ?? (record && limit > 0);
    if (limit <= 0 && (this.#outcomes.length === 0 || !record)) return 0;
    // Take the pending outcomes: handlers that finish while this commits add to a fresh list.
    const outcomes = record ? this.#outcomes : [];
    if (record) this.#outcomes = [];
    const localWork = this.#localWork;
    const completions: TickRequest["completions"][number][] = [];
    const failures: TickRequest["failures"][number][] = [];
    for (const outcome of outcomes) {
      if (outcome.kind === "complete") completions.push({ lease: outcome.running.lease, result: outcome.result });
      else failures.push({ lease: outcome.running.lease, failure: outcome.failure });
    }
    const request: TickRequest = {
      completions,
      failures,
      ...(limit <= 0 && !recover
        ? {}
        : {
            claim: {
              workerId: this.id,
              strategy: this.options.strategy.name,
              leaseMs: this.options.leaseMs,
              limit: Math.max(0, limit),
              recover,
              types: this.options.types,
              capabilities: this.options.capabilities,
            },
          }),
    };
    let result: TickResult;
    try {
      result = await this.#writes.tick(request);
    } catch (error) {
      this.#outcomes = outcomes.concat(this.#outcomes);
      throw error;
    }
    const events = this.#events(outcomes, result);
    if (result.recovered.length > 0) {
      const recovered = result.recovered as Task[];
      events.push(() => {
        this.stats.recovered += recovered.length;
        this.emit("recovered", recovered);
      });
    }
    // What the claim learned about the queue. Rows dead-lettered as undecodable were taken too.
    // Recovered leases put tasks back in the queue: look again rather than trust "empty".
    let mayHaveWork: boolean | undefined;
    if (result.recovered.length > 0) mayHaveWork = true;
    else if (limit > 0) mayHaveWork = result.claimed.length + result.discarded >= limit;
    // Only a claim may move it: a tick that claims nothing must not hide another process's write
    // from the next claim decision.
    if (result.dataVersion !== undefined) this.#dataVersion = result.dataVersion;
    if (limit > 0) this.#lastClaimAt = performance.now();
    // Work announced after the claim read the queue (between its commit and here) still counts.
    if (mayHaveWork !== undefined) this.#mayHaveWork = mayHaveWork || this.#localWork !== localWork;
    if (result.nextDue !== undefined) this.#nextDue = result.nextDue;
    if (result.claimed.length > 0) this.#pollDelay = this.#shortestPoll();
    for (const task of result.claimed) this.#buffered.push(task);
    // Claims of a tick that ends after stop() was called are released untouched by the shutdown.
    if (this.#state === "running") this.#startBuffered();
    for (const event of events) event();
    // Rows dead-lettered as undecodable were claimed too: the queue is not empty because of them.
    return result.claimed.length + result.discarded;
  }

  /**
   * The events of outcomes the tick wrote, to emit after it committed. An outcome whose lease was
   * lost changed nothing and reports it.
   */
  #events(outcomes: readonly Outcome[], result: TickResult): (() => void)[] {
    const events: (() => void)[] = [];
    const { now, completed } = result;
    // Successes first, then failures, each in the order they were decided.
    for (const outcome of outcomes) {
      if (outcome.kind !== "complete") continue;
      const { running } = outcome;
      if (!completed.has(running.task.id)) {
        events.push(() => this.#leaseLost(running.task));
        continue;
      }
      events.push(() => {
        this.stats.completed += 1;
        // The snapshot for listeners is built only if there are any.
        if (this.listenerCount("completed") > 0) this.emit("completed", finalSnapshot(running, outcome, now), outcome.value);
        if (this.listenerCount("recorded") > 0)
          this.emit("recorded", running.task, { status: "completed", at: now, result: outcome.value });
      });
    }
    let failure = 0;
    for (const outcome of outcomes) {
      if (outcome.kind !== "fail") continue;
      const ended = result.ended[failure++];
      const { task } = outcome.running;
      events.push(ended === null || ended === undefined ? () => this.#leaseLost(task) : this.#failureEvent(outcome, ended, now));
      // A retry or a release puts the task back in the queue.
      if (outcome.failure.outcome === "retry" || outcome.failure.outcome === "release") this.#mayHaveWork = true;
    }
    return events;
  }

  #failureEvent(outcome: Extract<Outcome, { kind: "fail" }>, ended: TaskStatus, now: number): () => void {
    const { running, error } = outcome;
    const report = () => {
      const task = finalSnapshot(running, outcome, now, ended);
      if (ended === "cancelled") {
        // Either the failure was a cancel, or a cancel arrived before a retry or release.
        this.stats.cancelled += 1;
        this.emit("cancelled", task);
        return;
      }
      switch (outcome.failure.outcome) {
        case "retry":
          this.stats.failed += 1;
          this.stats.retried += 1;
          if (error !== null) this.emit("failed", task, error, task.runAfter);
          this.emit("retried", task);
          break;
        case "dead_letter":
          this.stats.failed += 1;
          this.stats.deadLettered += 1;
          if (error !== null) {
            this.emit("failed", task, error, null);
            this.emit("dead-lettered", task, error);
          }
          break;
        default:
          break;
      }
    };
    return () => {
      report();
      if (this.listenerCount("recorded") > 0) this.emit("recorded", running.task, { status: ended, at: now, error });
    };
  }

  #leaseLost(task: Task): void {
    this.stats.leaseLost += 1;
    this.emit("lease-lost", task);
  }

  #start(task: Task, lease: Lease): void {
    // This worker's own earlier attempt lost its lease (the process stalled past it) and the task
    // was claimed again: tell the old handler before the new attempt takes its entry.
    const previous = this.#running.get(task.id);
    if (previous !== undefined && previous.lease.token !== lease.token) this.#abort(previous, "lease-lost");
    const running: Running = { task, lease, startedAt: performance.now() };
    this.#running.set(task.id, running);
    this.stats.claimed += 1;
    if (this.listenerCount("claimed") > 0) this.emit("claimed", task);
    this.#execute(running);
  }

  /**
   * Runs the handler. Whichever comes first decides the outcome: the handler settling, or an abort
   * (cancel, timeout, shutdown, lost lease), after which the handler gets the grace period to stop.
   * The slot is freed only when the handler has really finished. Written with callbacks rather
   * than async/await and Promise.race: this runs for every task.
   */
  #execute(running: Running): void {
    const { task } = running;
    // The slot is held until the handler has ended, even past an abort's grace.
    const release = () => {
      if (this.#running.get(task.id) === running) this.#running.delete(task.id);
      this.#signal();
    };
    // Own properties only: a task type such as "constructor" must not find Object's.
    const handler = Object.hasOwn(this.#handlers, task.type) ? this.#handlers[task.type] : undefined;
    if (handler === undefined) {
      const error = {
        name: "UnknownTaskType",
        message: `No handler for task type ${JSON.stringify(task.type)} on worker ${this.id}. Register one, or leave this type to workers that handle it (the \`types\` option).`,
      };
      this.#settle(running, "fail", { outcome: "dead_letter", error: JSON.stringify(error) }, error);
      this.#markDecided(running);
      queueMicrotask(release);
      return;
    }
    const timeout = task.timeoutMs === null ? undefined : setTimeout(() => this.#abort(running, "timeout"), task.timeoutMs);
    const span = startProcessSpan(task);
    const invoke = () => handler(task.payload, this.#context(running));
    const startedAt = running.startedAt ?? performance.now();
    let first: "handler" | "abort" | undefined;
    const handlerFirst = () => {
      if (first !== undefined) return false;
      first = "handler";
      const ms = performance.now() - startedAt;
      this.#averageRunMs = this.#averageRunMs === undefined ? ms : this.#averageRunMs * 0.9 + ms * 0.1;
      return true;
    };
    const endSpan = (error?: unknown) => {
      try {
        span?.end(error);
      } catch {
        // Tracing must not keep a task from being recorded.
      }
    };
    const ended = Promise.resolve()
      .then(span === undefined ? invoke : () => span.run(invoke))
      .then(
        (value) => {
          endSpan();
          if (handlerFirst()) this.#decide(running, () => this.#settleSuccess(running, value));
        },
        (error: unknown) => {
          endSpan(error);
          if (!handlerFirst()) return;
          this.#decide(running, () =>
            running.reason !== undefined ? this.#settleAborted(running, error) : this.#settleFailure(running, error),
          );
        },
      )
      .then(() => {
        clearTimeout(timeout);
        if (first !== "handler") return;
        this.#markDecided(running);
        release();
      });
    running.wakeAbort = () => {
      if (first !== undefined) return;
      first = "abort";
      // Give the handler time to stop before the task may run again, then record the outcome. A
      // handler that ignores its signal past the grace keeps its slot until it does stop, so the
      // worker never runs more than `concurrency`.
      void settlesWithin(ended, this.options.abortGraceMs).then(async (stopped) => {
        this.#decide(running, () => this.#settleAborted(running, running.abortError));
        this.#markDecided(running);
        if (!stopped) {
          this.#signal(); // the outcome is ready to record although the handler has not ended
          await ended;
        }
        release();
      });
    };
  }

  /**
   * Runs a settle step; should it throw (it only formats what the handler returned or threw), the
   * attempt is dead-lettered with what went wrong instead, so its slot and lease are never held
   * without an outcome.
   */
  #decide(running: Running, settle: () => void): void {
    try {
      settle();
    } catch (caught) {
      const error = {
        name: "OutcomeError",
        message: `The outcome of task ${running.task.id} could not be recorded: ${toTaskError(caught).message}`,
      };
      this.#settle(running, "fail", { outcome: "dead_letter", error: JSON.stringify(error) }, error);
    }
  }

  #markDecided(running: Running): void {
    running.decided = true;
    running.onDecided?.();
  }

  /** Resolves once the attempt's outcome is decided. */
  #whenDecided(running: Running): Promise<void> {
    if (running.decided) return Promise.resolve();
    running.whenDecided ??= new Promise<void>((resolve) => {
      running.onDecided = resolve;
    });
    return running.whenDecided;
  }

  #settleSuccess(running: Running, value: unknown): void {
    let result: string;
    try {
      result =
        value === undefined || value === null ? "null" : serializeJson(value, { what: "result", maxBytes: this.options.maxResultBytes });
    } catch (error) {
      const taskError = toTaskError(error);
      this.#settle(running, "fail", { outcome: "dead_letter", error: JSON.stringify(taskError) }, taskError);
      return;
    }
    this.#queueOutcome({ running, kind: "complete", result, value });
  }

  #settleFailure(running: Running, thrown: unknown): void {
    const error = toTaskError(thrown);
    const { task } = running;
    if (isPermanentError(thrown) || task.attempts >= task.maxAttempts) {
      this.#settle(running, "fail", { outcome: "dead_letter", error: JSON.stringify(error) }, error);
      return;
    }
    const runAfter = this.db.clock.now() + backoffDelay(task.attempts, this.options.backoff);
    this.#settle(running, "fail", { outcome: "retry", error: JSON.stringify(error), runAfter }, error);
  }

  #settleAborted(running: Running, thrown: unknown): void {
    switch (running.reason) {
      case "cancel": {
        const error = { name: "Cancelled", message: "The task was cancelled while running." };
        this.#settle(running, "fail", { outcome: "cancelled", error: JSON.stringify(error) }, error);
        return;
      }
      case "timeout":
        this.#settleFailure(running, thrown);
        return;
      case "shutdown":
        this.#settle(running, "fail", { outcome: "release", error: null }, null);
        return;
      default:
        // lease-lost: the task belongs to someone else now; there is nothing to record.
        return;
    }
  }

  /** Marks the attempt settled and queues its outcome for the next tick's transaction. */
  #queueOutcome(outcome: Outcome): void {
    outcome.running.settled = true;
    if (this.#outcomes.length === 0) this.#outcomesSince = performance.now();
    this.#outcomes.push(outcome);
  }

  #settle(running: Running, kind: "fail", failure: Failure, error: TaskError | null): void {
    this.#queueOutcome({ running, kind, failure, error });
  }

  #abort(running: Running, reason: AbortReason): void {
    if (running.reason !== undefined) return;
    running.reason = reason;
    const messages: Record<AbortReason, [string, string]> = {
      cancel: ["CancelledError", `Task ${running.task.id} was cancelled.`],
      timeout: ["TimeoutError", `Task ${running.task.id} ran longer than its timeout of ${running.task.timeoutMs} ms.`],
      "lease-lost": ["LeaseLostError", `Worker ${this.id} lost the lease of task ${running.task.id}.`],
      shutdown: ["ShutdownError", `Worker ${this.id} is shutting down.`],
    };
    const [name, message] = messages[reason];
    running.abortError = Object.assign(new Error(message), { name });
    if (reason === "lease-lost") this.#leaseLost(running.task);
    running.controller?.abort(running.abortError);
    running.wakeAbort?.();
  }

  #context(running: Running): TaskContext {
    this.#contextOps ??= {
      signal: (running) => {
        running.controller ??= new AbortController();
        if (running.abortError !== undefined && !running.controller.signal.aborted) running.controller.abort(running.abortError);
        return running.controller.signal;
      },
      heartbeat: async (running) => {
        const result = await this.db.transaction((tx) => extend(tx, [running.lease], this.options.leaseMs));
        if (result.lost.length > 0) {
          this.#abort(running, "lease-lost");
          throw this.#leaseLostError(running);
        }
        if (result.held.get(running.task.id)?.cancelRequested) this.#abort(running, "cancel");
      },
      progress: async (running, value) => {
        if (typeof value !== "number" || !Number.isFinite(value)) {
          throw new QueueError("INVALID_ARGUMENT", `progress() expects a finite number; got ${String(value)}.`);
        }
        const { task, lease } = running;
        const held = await this.db.transaction((tx) => setTaskProgress(tx, task.id, lease.token, value, tx.clock.now()));
        if (!held) throw this.#leaseLostError(running);
      },
      log: async (running, level, message, details) => {
        if (!LOG_LEVELS.includes(level))
          throw new QueueError("INVALID_ARGUMENT", `log() level must be one of ${LOG_LEVELS.join(", ")}; got ${String(level)}.`);
        if (typeof message !== "string") throw new QueueError("INVALID_ARGUMENT", "log() message must be a string.");
        const json = details === undefined ? null : serializeJson(details, { what: "log details", maxBytes: 64 * 1024 });
        const written = await this.db.transaction((tx) => insertLeasedTaskLog(tx, running.lease, level, message, json, tx.clock.now()));
        if (!written) throw this.#leaseLostError(running, "; the log line was not written");
      },
    };
    return new HandlerContext(running, this.#contextOps);
  }

  #leaseLostError(running: Running, consequence = ""): QueueError {
    return new QueueError("LEASE_LOST", `Worker ${this.id} no longer holds the lease of task ${running.task.id}${consequence}.`, {
      details: { taskId: running.task.id },
    });
  }

  /** One transaction renews every lease this worker holds; lost leases and pending cancels abort their handlers. */
  async #renewLeases(): Promise<void> {
    if (this.#state !== "running" && this.#state !== "stopping") return;
    const leases = [...this.#running.values()].filter((running) => !running.settled).map((running) => running.lease);
    for (const outcome of this.#outcomes) leases.push(outcome.running.lease);
    for (const buffered of this.#buffered) leases.push(buffered.lease);
    try {
      const result = await this.#writes.renew({ workerId: this.id, leases, leaseMs: this.options.leaseMs });
      if (result === undefined) return;
      // Leases are matched by token: a stale lease of a task this worker has since claimed again
      // must not touch the current attempt.
      const lost = new Set(result.lostLeases.map((lease) => `${lease.taskId}:${lease.token}`));
      const isLost = (lease: Lease) => lost.has(`${lease.taskId}:${lease.token}`);
      for (const lease of result.lostLeases) {
        const running = this.#running.get(lease.taskId);
        if (running !== undefined && running.lease.token === lease.token) this.#abort(running, "lease-lost");
      }
      for (const [taskId, state] of result.held) {
        const running = this.#running.get(taskId);
        if (running !== undefined && state.cancelRequested && !isLost(running.lease)) this.#abort(running, "cancel");
      }
      // Buffered tasks not started yet: a lost one is dropped, a cancelled one is recorded as such.
      this.#buffered = this.#buffered.filter(({ task, lease }) => {
        if (isLost(lease)) {
          this.#leaseLost(task);
          return false;
        }
        if (!result.held.get(task.id)?.cancelRequested) return true;
        const error = { name: "Cancelled", message: "The task was cancelled before it started." };
        this.#settle({ task, lease }, "fail", { outcome: "cancelled", error: JSON.stringify(error) }, error);
        this.#signal();
        return false;
      });
    } catch (error) {
      this.emit("error", error);
    }
  }

  /**
   * Idle: check cheaply (PRAGMA data_version) for commits by other connections, and for due times.
   * Polls adaptively: after another process writes, the next checks come soon (a twentieth of
   * pollIntervalMs), and each quiet check doubles the wait up to pollIntervalMs. A write is looked
   * into with a read-only probe of the claim's own conditions, so the write lock is taken only
   * when there is something to claim.
   */
  async #idle(): Promise<void> {
    // A commit another connection made after the last claim read the version (between that
    // claim's commit and now) is looked into at once, not at the first poll.
    if ((await this.#foreignWrite()) === "work") return;
    while (this.#state === "running") {
      // A task falling due (a delay, a retry's backoff) is not left waiting for the next poll.
      const untilDue = this.#nextDue === null ? Number.POSITIVE_INFINITY : Math.max(1, this.#nextDue - this.db.clock.now());
      if (await this.#sleep(Math.min(this.#pollDelay, untilDue))) return;
      const written = await this.#foreignWrite();
      if (written === "work") return;
      if (written === "nothing") continue;
      // Look with no due time known, and at least every pollIntervalMs in any case: work can come
      // back without a write another connection makes (released by another Worker on this one).
      if (this.#isDue() || ((this.#nextDue === null || this.#claimIsStale()) && this.#probe())) {
        this.#mayHaveWork = true;
        return;
      }
      this.#pollDelay = Math.min(this.options.pollIntervalMs, this.#pollDelay * 2);
    }
  }

  /**
   * Whether another connection has committed since the version was last noted ("none"), and if
   * so, whether a claim would take something now: "work" (noted in #mayHaveWork) or "nothing".
   * A write brings the next polls closer.
   */
  async #foreignWrite(): Promise<"none" | "work" | "nothing"> {
    const version = await this.#readDataVersion();
    if (version === this.#dataVersion) return "none";
    this.#dataVersion = version;
    this.#pollDelay = this.#shortestPoll();
    if (!this.#probe()) return "nothing";
    this.#mayHaveWork = true;
    return "work";
  }

  /**
   * Whether a claim now could find something. After a claim that came up short, only if something
   * may have changed since (see #mayHaveWork); the checks are cheap: no statement but PRAGMA
   * data_version.
   */
  async #mayFindWork(): Promise<boolean> {
    // runUntilEmpty() stops on a claim that finds nothing, so it must not skip one.
    if (this.#mayHaveWork || this.#drained !== undefined) return true;
    if (this.#isDue() || this.#claimIsStale()) return true;
    return (await this.#readDataVersion()) !== this.#dataVersion;
  }

  /** The due time noted (a delayed task, a lease expiring) has come. */
  #isDue(): boolean {
    return this.#nextDue !== null && this.db.clock.now() >= this.#nextDue;
  }

  /** pollIntervalMs has passed since the last claim: look again whatever is known. */
  #claimIsStale(): boolean {
    return performance.now() - this.#lastClaimAt >= this.options.pollIntervalMs;
  }

  /** A twentieth of pollIntervalMs, but not under 5 ms (nor over pollIntervalMs). */
  #shortestPoll(): number {
    const { pollIntervalMs } = this.options;
    return Math.min(pollIntervalMs, Math.max(5, Math.round(pollIntervalMs / 20)));
  }

  /**
   * True if a claim would take something now; otherwise notes when the next task falls due. On a
   * read error, true: the tick reports it.
   */
  #probe(): boolean {
    try {
      return this.db.read((tx) => {
        if (hasClaimable(tx, { types: this.options.types, capabilities: this.options.capabilities })) return true;
        this.#nextDue = nextDueTime(tx);
        return false;
      });
    } catch {
      return true;
    }
  }

  /** PRAGMA data_version of the connection the claims run on (-1 if it cannot be read). */
  #readDataVersion(): Promise<number> {
    return this.#writes.dataVersion().catch(() => -1);
  }

  /** Waits for a signal (a task finished, local work arrived, stop) or `ms`; true if signalled. */
  #sleep(ms?: number): Promise<boolean> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => finish(false), ms);
      const finish = (signalled: boolean) => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#woken = false;
        resolve(signalled);
      };
      this.#wake = () => finish(true);
    });
  }

  #signal(): void {
    if (this.#wake !== undefined) this.#wake();
    else this.#woken = true;
  }

  async #shutdown(options: StopOptions): Promise<void> {
    if (this.#starting === undefined) {
      this.#state = "stopped";
      if (this.#ownsDb) this.db.close();
      return;
    }
    await this.#starting.catch(() => undefined);
    this.#state = "stopping";
    this.#signal();
    await this.#loopDone;
    // Claims still on their way land in the buffer, released just below.
    await Promise.all([...this.#inFlight]);
    // Tasks claimed ahead but never started go back to the queue at once.
    for (const { task, lease } of this.#buffered.splice(0))
      this.#settle({ task, lease }, "fail", { outcome: "release", error: null }, null);
    const graceful = options.graceful ?? true;
    const timeoutMs = options.timeoutMs ?? this.options.shutdownTimeoutMs;
    // Wait for outcomes to be decided, not for handlers that ignore their abort to end.
    const settled = () => Promise.all([...this.#running.values()].map((running) => this.#whenDecided(running)));
    if (graceful && this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settled(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
    }
    for (const running of this.#running.values()) this.#abort(running, "shutdown");
    await settled();
    // Record what finished, renewing leases meanwhile; what cannot be recorded after several tries
    // is left to lease expiry, which hands the tasks to another worker.
    for (let attempt = 0; this.#outcomes.length > 0 && attempt < 5; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      await this.#tick(0).catch((error: unknown) => this.emit("error", error));
    }
    clearInterval(this.#heartbeat);
    await this.db.transaction((tx) => deregisterWorker(tx, this.id)).catch((error: unknown) => this.emit("error", error));
    this.#unsubscribeLocal?.();
    if (this.#onSignal !== undefined) {
      process.off("SIGINT", this.#onSignal);
      process.off("SIGTERM", this.#onSignal);
    }
    this.#state = "stopped";
    if (this.#ownsDb) this.db.close();
    this.#drained?.();
    this.emit("stopped");
  }
}

/** True if `work` settles within `ms`; false if the time runs out first. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The task as the outcome left it, for events, built without reading the row back. */
function finalSnapshot(running: Running, outcome: Outcome, now: number, ended?: TaskStatus): Task {
  const base = running.task;
  const at = new Date(now);
  const cleared = { leaseUntil: null, lockedBy: null, cancelRequested: false, updatedAt: at };
  if (outcome.kind === "complete") {
    const result = outcome.value === undefined ? null : outcome.value;
    return Object.freeze({
      ...base,
      ...cleared,
      status: "completed",
      result,
      progress: running.progress ?? base.progress ?? 1,
      finishedAt: at,
    });
  }
  const { failure } = outcome;
  const status = ended ?? (failure.outcome === "retry" || failure.outcome === "release" ? "queued" : failure.outcome);
  return Object.freeze({
    ...base,
    ...cleared,
    status,
    error: outcome.error ?? base.error,
    runAfter: new Date(failure.runAfter ?? now),
    attempts: base.attempts - (failure.outcome === "release" ? 1 : 0),
    progress: running.progress ?? base.progress,
    finishedAt: status === "queued" ? null : at,
  });
}

/** What a handler's context does for its attempt; one set per worker. */
interface ContextOps {
  signal(running: Running): AbortSignal;
  heartbeat(running: Running): Promise<void>;
  progress(running: Running, value: number): Promise<void>;
  log(running: Running, level: LogLevel, message: string, details?: unknown): Promise<void>;
}

/**
 * A handler's TaskContext. Its functions are made the first time a handler reads them (most
 * handlers never do), each bound to its attempt, so a handler may also take them off the
 * context: `const { heartbeat } = ctx`.
 */
class HandlerContext implements TaskContext {
  readonly #running: Running;
  readonly #ops: ContextOps;
  #heartbeat: TaskContext["heartbeat"] | undefined;
  #progress: TaskContext["progress"] | undefined;
  #log: TaskContext["log"] | undefined;

  constructor(running: Running, ops: ContextOps) {
    this.#running = running;
    this.#ops = ops;
  }

  get task(): Task {
    return this.#running.task;
  }

  get signal(): AbortSignal {
    return this.#ops.signal(this.#running);
  }

  get heartbeat(): TaskContext["heartbeat"] {
    this.#heartbeat ??= () => this.#ops.heartbeat(this.#running);
    return this.#heartbeat;
  }

  get progress(): TaskContext["progress"] {
    this.#progress ??= (value: number) => this.#ops.progress(this.#running, value);
    return this.#progress;
  }

  get log(): TaskContext["log"] {
    this.#log ??= (level: LogLevel, message: string, details?: unknown) => this.#ops.log(this.#running, level, message, details);
    return this.#log;
  }
}
