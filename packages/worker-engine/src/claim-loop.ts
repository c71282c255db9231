// The claim loop (the producer): keeps the slots busy by starting tasks claimed ahead as slots
// free, and running a tick (record outcomes, claim more) when enough room has opened for a batch,
// when an outcome has waited long enough, or when there is nothing else to do. Its modes are
// named in loop-modes.ts; each step returns the mode to move to.
import type { QueueStore, Task, TickResult } from "@queue/core";
import type { Completer } from "./completer.js";
import type { Executor } from "./executor.js";
import { leasedTasks } from "./leases.js";
import { isLooping, type LoopMode, transition } from "./loop-modes.js";
import { AUTO_PREFETCH_BELOW_MS, type ResolvedWorkerOptions } from "./options.js";
import type { Prefetch } from "./prefetch.js";
import type { Report } from "./report.js";
import type { Wake } from "./wake.js";
import type { WorkWatch } from "./work-watch.js";

const MAX_ERROR_DELAY_MS = 5_000;
/** Ticks a worker whose store is pipelined (see QueueStore.pipelined) keeps in flight at once. */
const TICKS_IN_FLIGHT = 2;
/** The longest a recorded outcome waits for more to share its transaction. */
const MAX_OUTCOME_DELAY_MS = 20;
/** Tries at recording the last outcomes when the worker stops. */
const FINAL_RECORD_TRIES = 5;

export interface ClaimLoopSettings {
  readonly workerId: string;
  readonly options: ResolvedWorkerOptions;
  /**
   * Where ticks go. When it is pipelined, a claim is sent and the loop goes on, so that the next one
   * can be on its way before the answer to the first is back (see TICKS_IN_FLIGHT).
   */
  readonly store: QueueStore;
  readonly report: Report;
  readonly wake: Wake;
  readonly watch: WorkWatch;
  readonly completer: Completer;
  readonly executor: Executor;
  readonly prefetch: Prefetch;
}

export class ClaimLoop {
  #mode: LoopMode = "starting";
  #done: Promise<void> = Promise.resolve();
  /** Set by runUntilEmpty(): called, and the loop drains, once a claim finds nothing and nothing is left to do. */
  #untilEmpty?: () => void;
  /** Claiming ticks sent and not answered yet, and how many tasks they may bring. */
  readonly #inFlight = new Set<Promise<void>>();
  #claiming = 0;
  /** A claiming tick sent without waiting failed: the loop backs off before the next. */
  #sentTickFailed = false;
  #errorDelay: number;
  readonly #polling = () => this.#mode === "polling";
  readonly #workerId: string;
  readonly #options: ResolvedWorkerOptions;
  readonly #store: QueueStore;
  readonly #pipelined: boolean;
  readonly #report: Report;
  readonly #wake: Wake;
  readonly #watch: WorkWatch;
  readonly #completer: Completer;
  readonly #executor: Executor;
  readonly #prefetch: Prefetch;

  constructor(settings: ClaimLoopSettings) {
    this.#workerId = settings.workerId;
    this.#options = settings.options;
    this.#store = settings.store;
    this.#pipelined = settings.store.pipelined;
    this.#report = settings.report;
    this.#wake = settings.wake;
    this.#watch = settings.watch;
    this.#completer = settings.completer;
    this.#executor = settings.executor;
    this.#prefetch = settings.prefetch;
    this.#errorDelay = settings.options.pollIntervalMs;
  }

  get mode(): LoopMode {
    return this.#mode;
  }

  /** Starts claiming. */
  start(): void {
    this.#mode = transition(this.#mode, "claiming");
    this.#done = this.#run();
  }

  /** Drains (calling `drained`) instead of polling once a claim finds nothing and nothing is left to record or run. */
  drainWhenEmpty(drained: () => void): void {
    this.#untilEmpty = drained;
  }

  /** Stops claiming; resolves once the loop has ended and the claims on their way have landed (claimed ahead). */
  async stop(): Promise<void> {
    this.#mode = transition(this.#mode, "draining");
    this.#wake.signal();
    await this.#done;
    await Promise.all([...this.#inFlight]);
  }

  /**
   * Records the outcomes left, renewing leases meanwhile; what cannot be recorded after several
   * tries is left to lease expiry, which hands the tasks to another worker.
   */
  async recordRemaining(): Promise<void> {
    for (let attempt = 0; this.#completer.pending > 0 && attempt < FINAL_RECORD_TRIES; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      await this.#tick(0).catch((error: unknown) => this.#report.emit("error", error));
    }
  }

  /** Everything is recorded: the loop will not run again. */
  finish(): void {
    this.#mode = transition(this.#mode, "stopped");
  }

  async #run(): Promise<void> {
    while (isLooping(this.#mode)) {
      let next: LoopMode;
      switch (this.#mode) {
        case "waiting":
          next = await this.#waitForRoom();
          break;
        case "polling":
          next = await this.#poll();
          break;
        case "backing-off":
          next = await this.#backOff();
          break;
        default:
          next = await this.#claim();
      }
      this.#mode = transition(this.#mode, next);
    }
  }

  /** "claiming": starts what waits for a slot, then records and claims if there is room for a batch. */
  async #claim(): Promise<LoopMode> {
    if (this.#sentTickFailed) {
      this.#sentTickFailed = false;
      return "backing-off";
    }
    // Let the handlers just started from the buffer begin (they are invoked in a microtask)
    // before a tick's transaction holds the thread: their waits then overlap it.
    if (this.#prefetch.startWhileFree() > 0) await Promise.resolve();
    const allowance = this.#prefetch.allowance();
    this.#prefetch.releaseExcess(allowance);
    const room = this.#executor.free + allowance - this.#prefetch.size - this.#claiming;
    // Without prefetch, every free slot is worth a claim; with it, wait until half the buffer is gone.
    const batch = allowance === 0 ? 1 : Math.ceil(allowance / 2);
    const outcomeWait = this.#outcomeWait();
    if (room < batch && (outcomeWait === undefined || outcomeWait > 0)) return "waiting";
    // An outcome past its deadline is recorded at once; a claim waits for room for a batch (the
    // buffer still holds tasks then, so no slot is idle meanwhile), and is skipped while the
    // queue is known to hold nothing for this worker (the outcomes are still recorded at once).
    const wantsClaim = room >= batch;
    const untilEmpty = this.#untilEmpty;
    const limit = wantsClaim && (await this.#watch.mayFindWork(untilEmpty !== undefined)) ? room : 0;
    // runUntilEmpty() waits for each claim: the one that finds nothing is what ends it.
    if (this.#pipelined && limit > 0 && untilEmpty === undefined) {
      // Sent without waiting; with as many in flight as allowed, wait for an answer (or a task).
      if (this.#inFlight.size < TICKS_IN_FLIGHT) this.#send(limit);
      else await this.#wake.sleep();
      return "claiming";
    }
    let claimed = 0;
    try {
      // Refill the free slots first and record the finished tasks in a second transaction just
      // after: their record then overlaps the new handlers instead of delaying their start.
      // Only while the queue has a backlog (otherwise the claim finds nothing and costs a
      // transaction), and only without claim-ahead (with it, the freed slots are refilled from
      // the tasks held ahead, and one transaction does both).
      const recordAfter = limit > 0 && allowance === 0 && this.#completer.pending > 0 && this.#watch.backlog;
      claimed = await this.#tick(limit, { record: !recordAfter });
      if (limit > 0) this.#watch.backlog = claimed >= limit;
      if (recordAfter) {
        await new Promise((resolve) => setImmediate(resolve));
        // Expired leases are recovered here, after this worker's own outcomes are recorded.
        await this.#tick(0, { recover: true });
      }
      this.#errorDelay = this.#options.pollIntervalMs;
      // What was just recorded may have made tasks claimable (a retry due at once): look again
      // before deciding the queue is empty.
      if (recordAfter) return "claiming";
    } catch (error) {
      this.#report.emit("error", error);
      return "backing-off";
    }
    if (limit > 0 && claimed >= limit) return "claiming";
    // Handlers that ignored their abort past the grace keep a slot but have no outcome to wait for.
    if (untilEmpty !== undefined && claimed === 0 && this.#nothingLeft()) {
      untilEmpty();
      return "draining";
    }
    if (!wantsClaim) return "claiming";
    // The claim was skipped, and what was just recorded may have put a task back (a retry).
    if (limit === 0 && this.#watch.mayHaveWork) return "claiming";
    // A claim on its way decides whether the queue is dry.
    if (this.#inFlight.size > 0) {
      await this.#wake.sleep();
      return "claiming";
    }
    return "polling";
  }

  /**
   * "waiting": for a task to finish (or the oldest outcome's deadline), then lets the event loop
   * turn once so every task finishing at about the same time is recorded in one transaction.
   * Under "auto", tasks held ahead are looked at again after a while: a handler that has run long
   * by then turns claiming ahead off, and they go back to the queue.
   */
  async #waitForRoom(): Promise<LoopMode> {
    const outcomeWait = this.#outcomeWait();
    const recheck = this.#options.prefetch === "auto" && this.#prefetch.size > 0 ? AUTO_PREFETCH_BELOW_MS : undefined;
    const ms = outcomeWait === undefined ? recheck : recheck === undefined ? outcomeWait : Math.min(outcomeWait, recheck);
    await this.#wake.sleep(ms === undefined ? undefined : Math.ceil(ms));
    await new Promise((resolve) => setImmediate(resolve));
    return "claiming";
  }

  /**
   * "polling": the queue ran dry (the last tick has started what it claimed): polls for new work.
   * Then lets the event loop turn once, so that what woke it (tasks finishing on timers that fired
   * together, runs enqueued by them) is recorded and claimed in one transaction rather than one each.
   */
  async #poll(): Promise<LoopMode> {
    await this.#watch.idle(this.#polling);
    await new Promise((resolve) => setImmediate(resolve));
    return "claiming";
  }

  /** "backing-off": waits after a failed tick, twice as long as the last time in a row (up to MAX_ERROR_DELAY_MS). */
  async #backOff(): Promise<LoopMode> {
    await this.#wake.sleep(this.#errorDelay);
    this.#errorDelay = Math.min(MAX_ERROR_DELAY_MS, this.#errorDelay * 2);
    return "claiming";
  }

  /** How long the oldest outcome may still wait for others to share its transaction (undefined if none waits). */
  #outcomeWait(): number | undefined {
    const waited = this.#completer.waitedMs(performance.now());
    return waited === undefined ? undefined : MAX_OUTCOME_DELAY_MS - waited;
  }

  /** No claim on its way, nothing claimed ahead or left to record, and every running attempt decided. */
  #nothingLeft(): boolean {
    return this.#inFlight.size === 0 && this.#prefetch.size === 0 && this.#completer.pending === 0 && this.#executor.allSettled();
  }

  /** Sends a claiming tick without waiting for it; its answer wakes the loop. */
  #send(limit: number): void {
    this.#claiming += limit;
    const sent: Promise<void> = this.#tick(limit).then(
      (claimed) => {
        this.#watch.backlog = claimed >= limit;
        this.#errorDelay = this.#options.pollIntervalMs;
      },
      (error: unknown) => {
        this.#report.emit("error", error);
        this.#sentTickFailed = true;
      },
    );
    this.#inFlight.add(sent);
    void sent.finally(() => {
      this.#claiming -= limit;
      this.#inFlight.delete(sent);
      this.#wake.signal();
    });
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
    if (limit <= 0 && (this.#completer.pending === 0 || !record)) return 0;
    // Take the pending outcomes: handlers that finish while this commits add to a fresh list.
    const outcomes = this.#completer.take(record);
    const localWork = this.#watch.localWork;
    const worker = this.#options;
    const request = this.#completer.request(
      outcomes,
      limit <= 0 && !recover
        ? undefined
        : {
            workerId: this.#workerId,
            order: worker.strategy.order,
            leaseMs: worker.leaseMs,
            limit: Math.max(0, limit),
            recover,
            types: worker.types,
            capabilities: worker.capabilities,
          },
    );
    let result: TickResult;
    try {
      result = await this.#store.recordAndClaim(request);
    } catch (error) {
      this.#completer.giveBack(outcomes);
      throw error;
    }
    const events = this.#completer.events(outcomes, result);
    if (result.recovered.length > 0) {
      const recovered = result.recovered as Task[];
      events.push(() => {
        this.#report.stats.recovered += recovered.length;
        this.#report.emit("recovered", recovered);
      });
    }
    this.#watch.noteTick(result, limit, localWork);
    if (result.lease !== undefined && result.claimed.length > 0) {
      this.#prefetch.add(leasedTasks(result.claimed, result.lease, worker.strategy));
    }
    // Claims of a tick that ends after stop() was called are released untouched by the shutdown.
    if (isLooping(this.#mode)) this.#prefetch.startWhileFree();
    for (const event of events) event();
    // Rows dead-lettered as undecodable were claimed too: the queue is not empty because of them.
    return result.claimed.length + result.discarded;
  }
}
