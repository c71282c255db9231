import { invalidConfig } from "@queue/core";

/**
 * Retry delays: `initialDelayMs * factor^(attempt - 1)`, capped at `maxDelayMs`, then shortened by a
 * random fraction up to `jitter` so that tasks that failed together do not retry together.
 */
export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly factor: number;
  readonly maxDelayMs: number;
  /** 0 (none) to 1 (anywhere from 0 to the full delay). */
  readonly jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialDelayMs: 1_000, factor: 2, maxDelayMs: 3_600_000, jitter: 0.25 });

export function resolveBackoff(overrides: Partial<BackoffPolicy> | undefined): BackoffPolicy {
  const policy = { ...DEFAULT_BACKOFF, ...overrides };
  const check = (key: keyof BackoffPolicy, ok: boolean, expected: string) => {
    if (!ok) invalidConfig(`backoff.${key}`, policy[key], expected);
  };
  check("initialDelayMs", Number.isFinite(policy.initialDelayMs) && policy.initialDelayMs >= 0, "a number of milliseconds >= 0");
  check("factor", Number.isFinite(policy.factor) && policy.factor >= 1, "a number >= 1");
  check(
    "maxDelayMs",
    Number.isFinite(policy.maxDelayMs) && policy.maxDelayMs >= policy.initialDelayMs,
    "a number >= backoff.initialDelayMs",
  );
  check("jitter", Number.isFinite(policy.jitter) && policy.jitter >= 0 && policy.jitter <= 1, "a number from 0 to 1");
  return Object.freeze(policy);
}

/** The wait before retrying after failed attempt number `attempt` (1 for the first). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponential = policy.initialDelayMs * policy.factor ** Math.max(0, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (1 - policy.jitter * random()));
}
