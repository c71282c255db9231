import type { MetricsSnapshot } from "./metrics.js";

export type HealthStatus = "ok" | "warn" | "critical";

/** A threshold pair: at `warn` or above the queue is degraded, at `critical` or above it is failing. */
export interface Limit {
  readonly warn: number;
  readonly critical: number;
}

export interface HealthThresholds {
  /** Share of finished tasks that were dead-lettered, over the window. */
  readonly failureRate: Limit;
  readonly p95WaitMs: Limit;
  readonly oldestQueuedAgeMs: Limit;
  readonly walBytes: Limit;
  readonly staleWorkers: Limit;
  readonly expiredLeases: Limit;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = Object.freeze({
  failureRate: { warn: 0.05, critical: 0.25 },
  p95WaitMs: { warn: 30_000, critical: 300_000 },
  oldestQueuedAgeMs: { warn: 300_000, critical: 3_600_000 },
  walBytes: { warn: 256 * 1024 * 1024, critical: 1024 * 1024 * 1024 },
  staleWorkers: { warn: 1, critical: 5 },
  expiredLeases: { warn: 1, critical: 100 },
});

export interface HealthReason {
  readonly status: Exclude<HealthStatus, "ok">;
  readonly check: keyof HealthThresholds;
  readonly value: number;
  readonly threshold: number;
  readonly message: string;
}

export interface HealthSummary {
  readonly status: HealthStatus;
  readonly reasons: readonly HealthReason[];
}

const DESCRIBE: Record<keyof HealthThresholds, (value: number) => string> = {
  failureRate: (value) => `${(value * 100).toFixed(1)}% of tasks finished in the window were dead-lettered`,
  p95WaitMs: (value) => `95% of tasks waited up to ${Math.round(value)} ms before starting`,
  oldestQueuedAgeMs: (value) => `the oldest runnable task has waited ${Math.round(value / 1000)} s`,
  walBytes: (value) =>
    `the WAL file is ${(value / 2 ** 20).toFixed(1)} MiB; run a checkpoint (queue checkpoint), and look for a long-running reader (a report, a backup) that keeps checkpoints from emptying it`,
  staleWorkers: (value) => `${value} worker(s) stopped sending heartbeats`,
  expiredLeases: (value) => `${value} lease(s) expired without being recovered; are any workers running?`,
};

/** Thresholds to override: any check, and either level of it; the rest keep their defaults. */
export type HealthThresholdOverrides = { readonly [Check in keyof HealthThresholds]?: Partial<Limit> };

/** Fewer tasks than this finished in the window say nothing about the failure rate (1 of 1 is not "100% failing"). */
export const MIN_FINISHED_FOR_FAILURE_RATE = 20;

/** ok, warn or critical, with every reason, from a snapshot and thresholds (defaults merged in). */
export function healthSummary(snapshot: MetricsSnapshot, thresholds: HealthThresholdOverrides = {}): HealthSummary {
  // Field by field: { p95WaitMs: { warn: 1000 } } keeps the default critical level.
  const limits = Object.fromEntries(
    (Object.keys(DEFAULT_HEALTH_THRESHOLDS) as (keyof HealthThresholds)[]).map((check) => [
      check,
      { ...DEFAULT_HEALTH_THRESHOLDS[check], ...thresholds[check] },
    ]),
  ) as unknown as HealthThresholds;
  const values: Record<keyof HealthThresholds, number | null> = {
    failureRate: finishedCount(snapshot) >= MIN_FINISHED_FOR_FAILURE_RATE ? snapshot.rates.failure : null,
    p95WaitMs: snapshot.waitTimeMs.p95,
    oldestQueuedAgeMs: snapshot.oldestQueuedAgeMs,
    walBytes: snapshot.file.walBytes,
    staleWorkers: snapshot.workers.filter((worker) => worker.stale).length,
    expiredLeases: snapshot.expiredLeases,
  };
  const reasons: HealthReason[] = [];
  for (const check of Object.keys(limits) as (keyof HealthThresholds)[]) {
    const value = values[check];
    const limit = limits[check];
    if (value === null) continue;
    const status = value >= limit.critical ? "critical" : value >= limit.warn ? "warn" : undefined;
    if (status === undefined) continue;
    reasons.push({ status, check, value, threshold: status === "critical" ? limit.critical : limit.warn, message: DESCRIBE[check](value) });
  }
  const status: HealthStatus = reasons.some((reason) => reason.status === "critical") ? "critical" : reasons.length > 0 ? "warn" : "ok";
  return { status, reasons };
}

function finishedCount(snapshot: MetricsSnapshot): number {
  const finished = snapshot.finishedInWindow;
  return finished.completed + finished.deadLettered + finished.cancelled;
}
