import { asStore, type QueueDatabase, type QueueStore, type TaskStatus } from "@queue/core";
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
  /** Bytes on disk of the SQLite file and its WAL (0 on a backend without a file). */
  readonly file: Readonly<{ bytes: number; walBytes: number }>;
}

const MINUTE = 60_000;

/** Queue metrics, answered from indexes so that they stay fast on large files. */
export class QueueMetrics {
  /** Where the metrics are read from. */
  readonly store: QueueStore;
  readonly #windowMs: number;
  readonly #staleWorkerMs: number;
  readonly #latencySample: number;

  /** On any store, or on an open SQLite database (left open). */
  constructor(source: QueueStore | QueueDatabase, options: MetricsOptions = {}) {
    this.store = asStore(source);
    this.#windowMs = positive("windowMs", options.windowMs ?? 5 * MINUTE);
    this.#staleWorkerMs = positive("staleWorkerMs", options.staleWorkerMs ?? MINUTE);
    this.#latencySample = positive("latencySample", options.latencySample ?? 10_000);
  }

  /** All metrics, from one read of the store (one consistent snapshot). */
  async snapshot(): Promise<MetricsSnapshot> {
    const { windowMs } = this;
    const reading = await this.store.readMetrics({ since: this.store.clock.now() - windowMs, latencySample: this.#latencySample });
    const { now, finished } = reading;
    const settled = finished.completed + finished.dead_letter;
    const minutes = windowMs / MINUTE;
    return {
      at: new Date(now),
      windowMs,
      depth: reading.depth,
      activeByType: reading.activeByType,
      oldestQueuedAgeMs: reading.oldestRunnableSince === null ? 0 : Math.max(0, now - reading.oldestRunnableSince),
      finishedInWindow: { completed: finished.completed, deadLettered: finished.dead_letter, cancelled: finished.cancelled },
      throughputPerMinute: { completed: finished.completed / minutes, failed: finished.dead_letter / minutes },
      rates: {
        success: settled === 0 ? null : finished.completed / settled,
        failure: settled === 0 ? null : finished.dead_letter / settled,
        retry: settled === 0 ? null : reading.retries / settled,
      },
      waitTimeMs: percentiles(reading.timings.map((timing) => timing.wait)),
      runTimeMs: percentiles(reading.timings.map((timing) => timing.run)),
      workers: reading.workers.map((worker) => {
        const heartbeatAgeMs = Math.max(0, now - worker.heartbeat_at);
        return {
          id: worker.id,
          host: worker.host,
          pid: worker.pid,
          heartbeatAgeMs,
          stale: heartbeatAgeMs > this.#staleWorkerMs,
          leased: reading.leasedByWorker[worker.id] ?? 0,
        };
      }),
      expiredLeases: reading.expiredLeases,
      file: reading.storage ?? { bytes: 0, walBytes: 0 },
    };
  }

  /** The window for throughput, rates and latency, in milliseconds. */
  get windowMs(): number {
    return this.#windowMs;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`QueueMetrics: ${name} must be a positive number, got ${value}`);
  return value;
}
