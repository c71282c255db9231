import { statSync } from "node:fs";
import {
  countActiveByType,
  countExpiredLeases,
  countFinishedSince,
  countRetriesSince,
  countTasksByStatus,
  leasedByWorker,
  listWorkers,
  oldestRunnableSince,
  type QueueDatabase,
  recentTimings,
  type TaskStatus,
} from "@queue/core";
import { type Percentiles, percentiles } from "./percentiles.js";

export interface MetricsOptions {
  /** The window for throughput, rates and latency. Default 5 minutes. */
  readonly windowMs?: number;
  /** A worker whose heartbeat is older than this is stale. Default 60 s. */
  readonly staleWorkerMs?: number;
  /** Latency percentiles use at most this many of the most recent completions. Default 10,000. */
  readonly latencySample?: number;
}

export interface WorkerActivity {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly heartbeatAgeMs: number;
  readonly stale: boolean;
  /** Tasks this worker holds leases on. */
  readonly leased: number;
}

/** Everything the metrics know at one instant, read in one consistent snapshot. */
export interface MetricsSnapshot {
  readonly at: Date;
  readonly windowMs: number;
  readonly depth: Readonly<Record<TaskStatus, number>>;
  /** Queued and leased tasks per type. */
  readonly activeByType: readonly { readonly type: string; readonly status: "queued" | "leased"; readonly count: number }[];
  /** How long the longest-waiting runnable task has waited; 0 when none waits. */
  readonly oldestQueuedAgeMs: number;
  readonly finishedInWindow: Readonly<{ completed: number; deadLettered: number; cancelled: number }>;
  /** Per minute, over the window. */
  readonly throughputPerMinute: Readonly<{ completed: number; failed: number }>;
  /** Of the tasks finished in the window (completed or dead-lettered): the share that succeeded, the share that failed, and retries per finished task. */
  readonly rates: Readonly<{ success: number | null; failure: number | null; retry: number | null }>;
  /** Milliseconds, over the most recent completions in the window. */
  readonly waitTimeMs: Percentiles;
  readonly runTimeMs: Percentiles;
  readonly workers: readonly WorkerActivity[];
  /** Leases past their expiry not yet recovered: their workers died or stalled. */
  readonly expiredLeases: number;
  readonly file: Readonly<{ bytes: number; walBytes: number }>;
}

const MINUTE = 60_000;

/** Queue metrics, answered from indexes so that they stay fast on large files. */
export class QueueMetrics {
  readonly db: QueueDatabase;
  readonly #windowMs: number;
  readonly #staleWorkerMs: number;
  readonly #latencySample: number;

  constructor(db: QueueDatabase, options: MetricsOptions = {}) {
    this.db = db;
    this.#windowMs = positive("windowMs", options.windowMs ?? 5 * MINUTE);
    this.#staleWorkerMs = positive("staleWorkerMs", options.staleWorkerMs ?? MINUTE);
    this.#latencySample = positive("latencySample", options.latencySample ?? 10_000);
  }

  /** All metrics, from one read transaction. */
  snapshot(): MetricsSnapshot {
    return this.db.read((tx) => {
      const now = tx.clock.now();
      const since = now - this.#windowMs;
      const finished = countFinishedSince(tx, since);
      const retries = countRetriesSince(tx, since);
      const timings = recentTimings(tx, since, this.#latencySample);
      const settled = finished.completed + finished.dead_letter;
      const oldest = oldestRunnableSince(tx, now);
      const leased = leasedByWorker(tx);
      const minutes = this.#windowMs / MINUTE;
      return {
        at: new Date(now),
        windowMs: this.#windowMs,
        depth: countTasksByStatus(tx),
        activeByType: countActiveByType(tx),
        oldestQueuedAgeMs: oldest === null ? 0 : Math.max(0, now - oldest),
        finishedInWindow: { completed: finished.completed, deadLettered: finished.dead_letter, cancelled: finished.cancelled },
        throughputPerMinute: { completed: finished.completed / minutes, failed: finished.dead_letter / minutes },
        rates: {
          success: settled === 0 ? null : finished.completed / settled,
          failure: settled === 0 ? null : finished.dead_letter / settled,
          retry: settled === 0 ? null : retries / settled,
        },
        waitTimeMs: percentiles(timings.map((timing) => timing.wait)),
        runTimeMs: percentiles(timings.map((timing) => timing.run)),
        workers: listWorkers(tx).map((worker) => {
          const heartbeatAgeMs = Math.max(0, now - worker.heartbeat_at);
          return {
            id: worker.id,
            host: worker.host,
            pid: worker.pid,
            heartbeatAgeMs,
            stale: heartbeatAgeMs > this.#staleWorkerMs,
            leased: leased.get(worker.id) ?? 0,
          };
        }),
        expiredLeases: countExpiredLeases(tx, now),
        file: fileSizes(tx.path),
      };
    });
  }
}

function fileSizes(path: string): { bytes: number; walBytes: number } {
  if (path === ":memory:" || path === "") return { bytes: 0, walBytes: 0 };
  return {
    bytes: statSync(path, { throwIfNoEntry: false })?.size ?? 0,
    walBytes: statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`QueueMetrics: ${name} must be a positive number, got ${value}`);
  return value;
}
