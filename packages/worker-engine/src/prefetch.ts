// Tasks claimed ahead of free slots (the prefetch option): leased, waiting in claim order for a
// slot, renewed with the rest, and handed back when the worker stops or prefetch shrinks.
import type { Completer } from "./completer.js";
import type { Executor } from "./executor.js";
import type { ClaimedTask, Lease } from "./leases.js";
import { AUTO_PREFETCH_BELOW_MS, type ResolvedWorkerOptions } from "./options.js";
import { released } from "./outcome-policy.js";

export class Prefetch {
  /** Claimed, leased, not started yet, in claim order. */
  #claimed: ClaimedTask[] = [];
  readonly #options: ResolvedWorkerOptions;
  readonly #executor: Executor;
  readonly #completer: Completer;

  constructor(options: ResolvedWorkerOptions, executor: Executor, completer: Completer) {
    this.#options = options;
    this.#executor = executor;
    this.#completer = completer;
  }

  /** How many tasks wait for a slot. */
  get size(): number {
    return this.#claimed.length;
  }

  /**
   * How many tasks to hold beyond free slots now. Under "auto", none until handlers are known to be
   * short, and none while any running handler has already taken longer than that: a long task
   * among short ones must not keep tasks from other workers for its whole run.
   */
  allowance(): number {
    const { prefetch, concurrency } = this.#options;
    if (prefetch !== "auto") return prefetch;
    const averageRunMs = this.#executor.averageRunMs;
    if (averageRunMs === undefined || averageRunMs >= AUTO_PREFETCH_BELOW_MS) return 0;
    return this.#executor.runsLongerThan(AUTO_PREFETCH_BELOW_MS) ? 0 : concurrency;
  }

  /** Keeps what a claim took, to start as slots free. */
  add(claimed: readonly ClaimedTask[]): void {
    for (const task of claimed) this.#claimed.push(task);
  }

  /** Starts waiting tasks while slots are free; returns how many. */
  startWhileFree(): number {
    let started = 0;
    while (this.#claimed.length > 0 && this.#executor.free > 0) {
      const next = this.#claimed.shift() as ClaimedTask;
      this.#executor.start(next.task, next.lease);
      started += 1;
    }
    return started;
  }

  /** Hands back tasks held beyond `allowance`, while no slot is free to run them. */
  releaseExcess(allowance: number): void {
    if (this.#claimed.length <= allowance || this.#executor.free > 0) return;
    this.#release(this.#claimed.splice(allowance));
  }

  /** Hands every waiting task back to the queue (the worker stops). */
  releaseAll(): void {
    this.#release(this.#claimed.splice(0));
  }

  #release(tasks: readonly ClaimedTask[]): void {
    for (const { task, lease } of tasks) this.#completer.add(released({ task, lease }));
  }

  /** The waiting tasks' leases, appended to `leases`. */
  collectLeases(leases: Lease[]): void {
    for (const claimed of this.#claimed) leases.push(claimed.lease);
  }

  /** Keeps only the waiting tasks `keep` accepts. */
  retain(keep: (claimed: ClaimedTask) => boolean): void {
    this.#claimed = this.#claimed.filter(keep);
  }
}
