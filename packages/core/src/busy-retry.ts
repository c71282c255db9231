import { performance } from "node:perf_hooks";
import { invalidConfig, QueueError } from "./errors.js";
import { isBusyError } from "./sqlite-errors.js";

/**
 * How long a transaction keeps retrying when SQLite reports SQLITE_BUSY after its own
 * busy_timeout. Waits grow exponentially with jitter (so that many waiting processes do not wake
 * in step), capped at `maxDelayMs`, until `budgetMs` is spent.
 */
export interface BusyRetryPolicy {
  readonly budgetMs: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_BUSY_RETRY: BusyRetryPolicy = Object.freeze({ budgetMs: 30_000, initialDelayMs: 2, maxDelayMs: 250 });

export function resolveBusyRetry(overrides: Partial<BusyRetryPolicy> | undefined): BusyRetryPolicy {
  const policy = {
    budgetMs: overrides?.budgetMs ?? DEFAULT_BUSY_RETRY.budgetMs,
    initialDelayMs: overrides?.initialDelayMs ?? DEFAULT_BUSY_RETRY.initialDelayMs,
    maxDelayMs: overrides?.maxDelayMs ?? DEFAULT_BUSY_RETRY.maxDelayMs,
  };
  for (const [key, value] of Object.entries(policy)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
      invalidConfig(`busyRetry.${key}`, value, "a finite number of milliseconds >= 0");
    }
  }
  if (policy.maxDelayMs < policy.initialDelayMs) {
    invalidConfig("busyRetry.maxDelayMs", policy.maxDelayMs, `a value >= busyRetry.initialDelayMs (${policy.initialDelayMs})`);
  }
  return Object.freeze(policy);
}

/** One operation's retry state: `next(error)` after each failure says how long to wait, if at all. */
class BusyRetryState {
  readonly #policy: BusyRetryPolicy;
  readonly #startedAt = performance.now();
  attempts = 0;

  constructor(policy: BusyRetryPolicy) {
    this.#policy = policy;
  }

  /** The delay before the next try; `undefined` when the error is not busy or the budget is spent. */
  next(error: unknown): number | undefined {
    this.attempts += 1;
    if (!isBusyError(error)) return undefined;
    const ceiling = Math.min(this.#policy.maxDelayMs, this.#policy.initialDelayMs * 2 ** (this.attempts - 1));
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    return this.elapsedMs() + delay > this.#policy.budgetMs ? undefined : delay;
  }

  elapsedMs(): number {
    return Math.round(performance.now() - this.#startedAt);
  }
}

/**
 * Runs `work`, retrying it while it fails with SQLITE_BUSY, sleeping without blocking the event
 * loop. Other errors are thrown at once; a busy budget that runs out becomes a BUSY QueueError.
 */
export function retryOnBusy<T>(policy: BusyRetryPolicy, path: string, work: () => T): Promise<T> {
  // The first try is synchronous and, when it succeeds (almost always), costs one resolved promise.
  try {
    return Promise.resolve(work());
  } catch (error) {
    return retryAfterBusy(policy, path, work, error);
  }
}

async function retryAfterBusy<T>(policy: BusyRetryPolicy, path: string, work: () => T, firstError: unknown): Promise<T> {
  const state = new BusyRetryState(policy);
  await sleep(delayOrThrow(state, firstError, path));
  for (;;) {
    try {
      return work();
    } catch (error) {
      await sleep(delayOrThrow(state, error, path));
    }
  }
}

/** `retryOnBusy` for synchronous callers: the waits block the thread. */
export function retryOnBusySync<T>(policy: BusyRetryPolicy, path: string, work: () => T): T {
  let state: BusyRetryState | undefined;
  for (;;) {
    try {
      return work();
    } catch (error) {
      state ??= new BusyRetryState(policy);
      sleepSync(delayOrThrow(state, error, path));
    }
  }
}

function delayOrThrow(state: BusyRetryState, error: unknown, path: string): number {
  const delay = state.next(error);
  if (delay !== undefined) return delay;
  if (!isBusyError(error)) throw error;
  const elapsedMs = state.elapsedMs();
  throw new QueueError(
    "BUSY",
    `The queue database ${path} stayed locked by another connection for ${elapsedMs} ms (${state.attempts} attempts). Another process is holding a long write transaction; shorten it, or raise busyRetry.budgetMs.`,
    { cause: error, path, details: { attempts: state.attempts, elapsedMs } },
  );
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
