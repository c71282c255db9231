// Runs one attempt: the handler under its timeout, an abort (cancel, timeout, lost lease, shutdown)
// with its grace period, and the outcome the policy decides, handed to the completer. Holds the
// slots: a slot is taken when an attempt starts and freed when its handler has really ended.
import { type QueueStore, startProcessSpan, type Task } from "@queue/core";
import { type AbortReason, type Attempt, abortError } from "./attempt.js";
import type { Completer } from "./completer.js";
import { type ContextOps, contextOps, HandlerContext } from "./handler-context.js";
import type { TaskHandler } from "./handlers.js";
import type { Lease } from "./leases.js";
import type { ResolvedWorkerOptions } from "./options.js";
import { aborted, failed, type Outcome, succeeded, undecidable, unknownType } from "./outcome-policy.js";
import { type Report, reportLeaseLost } from "./report.js";
import type { Wake } from "./wake.js";

export interface ExecutorSettings {
  readonly store: QueueStore;
  readonly workerId: string;
  readonly options: ResolvedWorkerOptions;
  readonly handlers: Readonly<Record<string, TaskHandler | undefined>>;
  readonly report: Report;
  readonly completer: Completer;
  readonly wake: Wake;
}

export class Executor {
  /** The attempts holding a slot, by task id. */
  readonly running = new Map<number, Attempt>();
  /** Moving average of handler run times, for prefetch "auto"; undefined until one has finished. */
  averageRunMs: number | undefined;
  readonly #store: QueueStore;
  readonly #workerId: string;
  readonly #options: ResolvedWorkerOptions;
  readonly #handlers: Readonly<Record<string, TaskHandler | undefined>>;
  readonly #report: Report;
  readonly #completer: Completer;
  readonly #wake: Wake;
  /** What every handler's context does, made once per worker (see HandlerContext). */
  readonly #contextOps: ContextOps;

  constructor(settings: ExecutorSettings) {
    this.#store = settings.store;
    this.#workerId = settings.workerId;
    this.#options = settings.options;
    this.#handlers = settings.handlers;
    this.#report = settings.report;
    this.#completer = settings.completer;
    this.#wake = settings.wake;
    this.#contextOps = contextOps({
      store: settings.store,
      workerId: settings.workerId,
      leaseMs: settings.options.leaseMs,
      abort: (attempt, reason) => this.abort(attempt, reason),
    });
  }

  /** Slots not held by an attempt. */
  get free(): number {
    return this.#options.concurrency - this.running.size;
  }

  /** Whether every attempt holding a slot has its outcome (handlers that ignored their abort past the grace keep a slot). */
  allSettled(): boolean {
    for (const attempt of this.running.values()) if (!attempt.settled) return false;
    return true;
  }

  /** Whether a handler still running has taken `ms` or longer. */
  runsLongerThan(ms: number): boolean {
    const now = performance.now();
    for (const attempt of this.running.values()) {
      if (!attempt.settled && attempt.startedAt !== undefined && now - attempt.startedAt >= ms) return true;
    }
    return false;
  }

  /** Takes a slot and runs the task's handler. */
  start(task: Task, lease: Lease): void {
    // This worker's own earlier attempt lost its lease (the process stalled past it) and the task
    // was claimed again: tell the old handler before the new attempt takes its entry.
    const previous = this.running.get(task.id);
    if (previous !== undefined && previous.lease.token !== lease.token) this.abort(previous, "lease-lost");
    const attempt: Attempt = { task, lease, startedAt: performance.now() };
    this.running.set(task.id, attempt);
    this.#report.stats.claimed += 1;
    if (this.#report.listenerCount("claimed") > 0) this.#report.emit("claimed", task);
    this.#execute(attempt);
  }

  /** Tells the attempt's handler to stop (once: the first reason is the one kept). */
  abort(attempt: Attempt, reason: AbortReason): void {
    if (attempt.reason !== undefined) return;
    attempt.reason = reason;
    attempt.abortError = abortError(attempt, reason, this.#workerId);
    if (reason === "lease-lost") reportLeaseLost(this.#report, attempt.task);
    attempt.controller?.abort(attempt.abortError);
    attempt.wakeAbort?.();
  }

  /** Resolves once the attempt's outcome is decided. */
  whenDecided(attempt: Attempt): Promise<void> {
    if (attempt.decided) return Promise.resolve();
    attempt.whenDecided ??= new Promise<void>((resolve) => {
      attempt.onDecided = resolve;
    });
    return attempt.whenDecided;
  }

  /**
   * Runs the handler. Whichever comes first decides the outcome: the handler settling, or an abort
   * (cancel, timeout, shutdown, lost lease), after which the handler gets the grace period to stop.
   * The slot is freed only when the handler has really finished. Written with callbacks rather
   * than async/await and Promise.race: this runs for every task.
   */
  #execute(attempt: Attempt): void {
    const { task } = attempt;
    // The slot is held until the handler has ended, even past an abort's grace.
    const release = () => {
      if (this.running.get(task.id) === attempt) this.running.delete(task.id);
      this.#wake.signal();
    };
    // Own properties only: a task type such as "constructor" must not find Object's.
    const handler = Object.hasOwn(this.#handlers, task.type) ? this.#handlers[task.type] : undefined;
    if (handler === undefined) {
      this.#completer.add(unknownType(attempt, this.#workerId));
      this.#markDecided(attempt);
      queueMicrotask(release);
      return;
    }
    const timeout = task.timeoutMs === null ? undefined : setTimeout(() => this.abort(attempt, "timeout"), task.timeoutMs);
    const span = startProcessSpan(task);
    const invoke = () => handler(task.payload, new HandlerContext(attempt, this.#contextOps));
    const startedAt = attempt.startedAt ?? performance.now();
    let first: "handler" | "abort" | undefined;
    const handlerFirst = () => {
      if (first !== undefined) return false;
      first = "handler";
      const ms = performance.now() - startedAt;
      this.averageRunMs = this.averageRunMs === undefined ? ms : this.averageRunMs * 0.9 + ms * 0.1;
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
          if (handlerFirst()) this.#decide(attempt, () => succeeded(attempt, value, this.#options));
        },
        (error: unknown) => {
          endSpan(error);
          if (!handlerFirst()) return;
          this.#decide(attempt, () => this.#failure(attempt, error));
        },
      )
      .then(() => {
        clearTimeout(timeout);
        if (first !== "handler") return;
        this.#markDecided(attempt);
        release();
      });
    attempt.wakeAbort = () => {
      if (first !== undefined) return;
      first = "abort";
      // Give the handler time to stop before the task may run again, then record the outcome. A
      // handler that ignores its signal past the grace keeps its slot until it does stop, so the
      // worker never runs more than `concurrency`.
      void settlesWithin(ended, this.#options.abortGraceMs).then(async (stopped) => {
        this.#decide(attempt, () => aborted(attempt, attempt.abortError, this.#store.clock.now(), this.#options));
        this.#markDecided(attempt);
        if (!stopped) {
          this.#wake.signal(); // the outcome is ready to record although the handler has not ended
          await ended;
        }
        release();
      });
    };
  }

  /** The outcome of a handler that threw: an aborted attempt's, or a failure's. */
  #failure(attempt: Attempt, error: unknown): Outcome | undefined {
    const now = this.#store.clock.now();
    return attempt.reason !== undefined ? aborted(attempt, error, now, this.#options) : failed(attempt, error, now, this.#options);
  }

  /**
   * Decides the outcome and hands it to the completer; should deciding throw (it only formats
   * what the handler returned or threw), the attempt is dead-lettered with what went wrong
   * instead. A lost lease decides nothing: there is nothing to record.
   */
  #decide(attempt: Attempt, decide: () => Outcome | undefined): void {
    let outcome: Outcome | undefined;
    try {
      outcome = decide();
    } catch (caught) {
      outcome = undecidable(attempt, caught);
    }
    if (outcome !== undefined) this.#completer.add(outcome);
  }

  #markDecided(attempt: Attempt): void {
    attempt.decided = true;
    attempt.onDecided?.();
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
