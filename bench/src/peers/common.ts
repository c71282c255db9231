// What the peer drivers share: the payload every variant enqueues, the "N calls in flight" loop,
// and a completion counter to wait on with a deadline (so a stalled peer fails instead of hanging).
import { performance } from "node:perf_hooks";
import { PAYLOAD } from "../raw.js";

/** The same payload the queue's own variants enqueue, as an object. */
export const PAYLOAD_OBJECT = JSON.parse(PAYLOAD) as Record<string, unknown>;

/** Tasks per second for `rows` tasks in `elapsedMs` milliseconds. */
export const perSecond = (rows: number, elapsedMs: number): number => (rows / elapsedMs) * 1000;

/** Calls `call` `rows` times with `inFlight` calls outstanding at all times; returns the elapsed milliseconds. */
export async function inFlightCalls(rows: number, inFlight: number, call: () => unknown): Promise<number> {
  let started = 0;
  const lane = async () => {
    while (started < rows) {
      started += 1;
      await call();
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: Math.min(inFlight, rows) }, lane));
  return performance.now() - begin;
}

/** Calls `call` `rows` times, each awaited before the next; returns the elapsed milliseconds. */
export async function awaitedCalls(rows: number, call: () => unknown): Promise<number> {
  const begin = performance.now();
  for (let i = 0; i < rows; i++) await call();
  return performance.now() - begin;
}

/** Calls `call(size)` for batches of `batch` until `rows` are sent; returns the elapsed milliseconds. */
export async function batchedCalls(rows: number, batch: number, call: (size: number) => unknown): Promise<number> {
  const begin = performance.now();
  for (let done = 0; done < rows; done += batch) await call(Math.min(batch, rows - done));
  return performance.now() - begin;
}

/** Counts completions; `reached()` resolves when `target` have been counted, or rejects after `timeoutMs`. */
export class Completions {
  #count = 0;
  #resolve: (() => void) | undefined;
  readonly #target: number;
  readonly #reached: Promise<void>;
  #timer: NodeJS.Timeout | undefined;

  constructor(target: number) {
    this.#target = target;
    this.#reached = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }

  get count(): number {
    return this.#count;
  }

  /** Counts one completion. */
  add(): void {
    this.#count += 1;
    if (this.#count === this.#target) this.#resolve?.();
  }

  reached(timeoutMs: number, what: string): Promise<void> {
    const deadline = new Promise<never>((_, reject) => {
      this.#timer = setTimeout(
        () => reject(new Error(`${what}: ${this.#count} of ${this.#target} tasks completed after ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    return Promise.race([this.#reached, deadline]).finally(() => clearTimeout(this.#timer));
  }
}

/** Polls `check` every `intervalMs` until it returns true, or throws after `timeoutMs`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string, intervalMs = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** `promise`, or a rejection after `timeoutMs`. */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** How long a processing run may take before it is reported as failed. */
export const PROCESS_TIMEOUT_MS = 120_000;

/** A logger that keeps only errors: the bench measures the queues, not their console output. */
export const QUIET_LOGGER = {
  error: (message: string, ...meta: unknown[]) => console.error(message, ...meta),
  warn() {},
  info() {},
  debug() {},
};
