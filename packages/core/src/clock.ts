/**
 * The source of "now" for everything time-based (run-after, leases, heartbeats, retention).
 * Injected so that tests move time instead of sleeping.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch, UTC. */
  now(): number;
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

/** A clock that only moves when told to. */
export class TestClock implements Clock {
  #now: number;

  constructor(start: number | Date = Date.UTC(2030, 0, 1)) {
    this.#now = TestClock.#toMillis(start);
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward (or backward, with a negative value) by `ms`. */
  advance(ms: number): number {
    if (!Number.isFinite(ms)) throw new RangeError(`TestClock.advance: expected a finite number of ms, got ${ms}`);
    this.#now += ms;
    return this.#now;
  }

  set(time: number | Date): void {
    this.#now = TestClock.#toMillis(time);
  }

  static #toMillis(time: number | Date): number {
    const ms = typeof time === "number" ? time : time.getTime();
    if (!Number.isFinite(ms)) throw new RangeError(`TestClock: expected a valid time, got ${String(time)}`);
    return ms;
  }
}
