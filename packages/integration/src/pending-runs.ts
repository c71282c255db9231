/**
 * The runs a QueuedTaskManager started that the registry does not yet show as finished, and the
 * waitAll() calls waiting for them to drain.
 */
export class PendingRuns {
  readonly #ids = new Set<string>();
  /** waitAll() calls waiting for a wake-up; each leaves the set when it wakes or its timer fires. */
  readonly #waiters = new Set<() => void>();

  get size(): number {
    return this.#ids.size;
  }

  has(runId: string): boolean {
    return this.#ids.has(runId);
  }

  add(runId: string): void {
    this.#ids.add(runId);
  }

  delete(runId: string): void {
    this.#ids.delete(runId);
  }

  /** The pending run ids, each mapped through `map`. */
  map<T>(map: (runId: string) => T): T[] {
    return [...this.#ids].map(map);
  }

  /**
   * Resolves when no run is pending, or once `closed()` says the manager closed. Woken by
   * wakeIfDrained() and wakeAll(), and otherwise every 50 ms to look again.
   */
  async drained(closed: () => boolean): Promise<void> {
    for (;;) {
      if (this.#ids.size === 0 || closed()) return;
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

  wakeAll(): void {
    for (const wake of [...this.#waiters]) wake();
  }

  /** Waiters only wait for this: waking them at every finished run would cost a timer each. */
  wakeIfDrained(): void {
    if (this.#ids.size === 0) this.wakeAll();
  }
}
