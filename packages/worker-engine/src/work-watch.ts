// What a worker knows of whether the queue may hold work for it, and the idle poll that finds out
// when it does not know: work announced by the store, other processes' writes (the store's write
// mark), due times.
import type { QueueStore, TickResult } from "@queue/core";
import type { ResolvedWorkerOptions } from "./options.js";
import type { Wake } from "./wake.js";

export class WorkWatch {
  /** The last claim took all it asked for: more tasks are probably waiting. */
  backlog = true;
  /**
   * False once a claim came up short (the queue had nothing more for this worker) until something
   * may have changed that: work enqueued in this process, a write by another connection, a task
   * falling due, a retry recorded here, or pollIntervalMs passing (expired leases elsewhere). While
   * false, freed slots do not each cost a claim that would find nothing.
   */
  mayHaveWork = true;
  /** Work announced in this process so far: a tick's "nothing more" must not hide one made during it. */
  localWork = 0;
  readonly #store: QueueStore;
  readonly #options: ResolvedWorkerOptions;
  readonly #wake: Wake;
  #nextDue: number | null = null;
  /** When the last claim ran (performance.now()). */
  #lastClaimAt = 0;
  /** The store's write mark as the last claim (or look) saw it: a different one means another process wrote. */
  #writeMark = -1;
  /** The idle poll's next wait: short while other processes are writing, doubling up to pollIntervalMs. */
  #pollDelay: number;

  constructor(store: QueueStore, options: ResolvedWorkerOptions, wake: Wake) {
    this.#store = store;
    this.#options = options;
    this.#wake = wake;
    this.#pollDelay = this.#shortestPoll();
  }

  /**
   * Wakes the loop when the store announces work (enqueued in this process, or wherever the backend
   * can tell), while `claiming()` (producers in this process write in large batches while this
   * worker has taken all there was). Returns the unsubscribe function.
   */
  watchLocalWork(claiming: () => boolean): () => void {
    return this.#store.onWork(
      () => {
        this.localWork += 1;
        this.mayHaveWork = true;
        this.#wake.signal();
      },
      () => claiming() && !this.backlog,
    );
  }

  /** Notes what a tick that claimed up to `limit` learned about the queue; `localWork` is the count read before it. */
  noteTick(result: TickResult, limit: number, localWork: number): void {
    // Rows dead-lettered as undecodable were taken too. Recovered leases put tasks back in the
    // queue: look again rather than trust "empty".
    let mayHaveWork: boolean | undefined;
    if (result.recovered.length > 0) mayHaveWork = true;
    else if (limit > 0) mayHaveWork = result.claimed.length + result.discarded >= limit;
    // Only a claim may move it: a tick that claims nothing must not hide another process's write
    // from the next claim decision.
    if (result.writeMark !== undefined) this.#writeMark = result.writeMark;
    if (limit > 0) this.#lastClaimAt = performance.now();
    // Work announced after the claim read the queue (between its commit and here) still counts.
    if (mayHaveWork !== undefined) this.mayHaveWork = mayHaveWork || this.localWork !== localWork;
    if (result.nextDue !== undefined) this.#nextDue = result.nextDue;
    if (result.claimed.length > 0) this.#pollDelay = this.#shortestPoll();
  }

  /**
   * Idle: check cheaply (the store's write mark) for commits by other connections, and for due times,
   * while `polling()`. Polls adaptively: after another process writes, the next checks come soon (a
   * twentieth of pollIntervalMs), and each quiet check doubles the wait up to pollIntervalMs. A
   * write is looked into with a read-only probe of the claim's own conditions, so the write lock
   * is taken only when there is something to claim.
   */
  async idle(polling: () => boolean): Promise<void> {
    // A commit another connection made after the last claim read the version (between that
    // claim's commit and now) is looked into at once, not at the first poll.
    if ((await this.#foreignWrite()) === "work") return;
    while (polling()) {
      // A task falling due (a delay, a retry's backoff) is not left waiting for the next poll.
      const untilDue = this.#nextDue === null ? Number.POSITIVE_INFINITY : Math.max(1, this.#nextDue - this.#store.clock.now());
      if (await this.#wake.sleep(Math.min(this.#pollDelay, untilDue))) return;
      const written = await this.#foreignWrite();
      if (written === "work") return;
      if (written === "nothing") continue;
      // Look with no due time known, and at least every pollIntervalMs in any case: work can come
      // back without a write another connection makes (released by another Worker on this one).
      if (this.#isDue() || ((this.#nextDue === null || this.#claimIsStale()) && (await this.#probe()))) {
        this.mayHaveWork = true;
        return;
      }
      this.#pollDelay = Math.min(this.#options.pollIntervalMs, this.#pollDelay * 2);
    }
  }

  /**
   * Whether a claim now could find something. After a claim that came up short, only if something
   * may have changed since (see mayHaveWork); the checks are cheap: no read but the store's write
   * mark. `untilEmpty`: runUntilEmpty() stops on a claim that finds nothing, so it must
   * not skip one.
   */
  async mayFindWork(untilEmpty: boolean): Promise<boolean> {
    if (this.mayHaveWork || untilEmpty) return true;
    if (this.#isDue() || this.#claimIsStale()) return true;
    return (await this.#readWriteMark()) !== this.#writeMark;
  }

  /**
   * Whether another connection has committed since the version was last noted ("none"), and if
   * so, whether a claim would take something now: "work" (noted in mayHaveWork) or "nothing".
   * A write brings the next polls closer.
   */
  async #foreignWrite(): Promise<"none" | "work" | "nothing"> {
    const mark = await this.#readWriteMark();
    if (mark === this.#writeMark) return "none";
    this.#writeMark = mark;
    this.#pollDelay = this.#shortestPoll();
    if (!(await this.#probe())) return "nothing";
    this.mayHaveWork = true;
    return "work";
  }

  /** The due time noted (a delayed task, a lease expiring) has come. */
  #isDue(): boolean {
    return this.#nextDue !== null && this.#store.clock.now() >= this.#nextDue;
  }

  /** pollIntervalMs has passed since the last claim: look again whatever is known. */
  #claimIsStale(): boolean {
    return performance.now() - this.#lastClaimAt >= this.#options.pollIntervalMs;
  }

  /** A twentieth of pollIntervalMs, but not under 5 ms (nor over pollIntervalMs). */
  #shortestPoll(): number {
    const { pollIntervalMs } = this.#options;
    return Math.min(pollIntervalMs, Math.max(5, Math.round(pollIntervalMs / 20)));
  }

  /**
   * True if a claim would take something now; otherwise notes when the next task falls due. On a
   * read error, true: the tick reports it.
   */
  async #probe(): Promise<boolean> {
    try {
      const probe = await this.#store.probeClaimable({ types: this.#options.types, capabilities: this.#options.capabilities });
      if (probe.claimable) return true;
      this.#nextDue = probe.nextDue;
      return false;
    } catch {
      return true;
    }
  }

  /** The store's write mark (-1 if it cannot be read). */
  #readWriteMark(): Promise<number> {
    return this.#store.writeMark().catch(() => -1);
  }
}
