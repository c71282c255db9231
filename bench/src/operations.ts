// Scenario "scale": how the claim path, a Worker's end-to-end throughput and the metrics query
// change as the tasks table grows (the slope from the smallest size to the largest), and how fast
// cleanup removes rows from the largest file. Each size gets its own file, built here with raw
// batched inserts, and its own process (scale-child.ts) whose peak RSS is its own; rounds are
// interleaved across the sizes, so that noise on a shared machine falls on all of them alike.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { benchScript, ended, type IpcChild, spawnIpcChild } from "./child.js";
import { rawConnection } from "./raw.js";
import type { PeakRss } from "./rss.js";
import { type Summary, summarize } from "./stats.js";

/** One measured figure of the cleanup table. */
export interface Figure {
  readonly what: string;
  readonly value: number;
  readonly unit: string;
  readonly detail: string;
}

const DAY = 86_400_000;
/** Task types in the files; the measuring Worker handles all of them. */
export const SCALE_TYPES = Array.from({ length: 8 }, (_, index) => `type-${index}`);

/**
 * A file shaped like a long-lived queue: `rows` tasks, 98% completed over the last 30 days, 1%
 * dead letters, 1% queued but scheduled over the next 30 days, and a few leased. The tasks the
 * measurements claim and drain are added (and removed again) by scale-child.ts, so that the table
 * holds `rows` tasks plus only the runnable ones of the moment. One transaction of batched inserts
 * through a bare connection.
 */
export function buildScaleFile(path: string, rows: number): void {
  const connection = rawConnection(path);
  const insert = connection.prepare(
    `INSERT INTO tasks (type, status, payload, attempts, run_after, lease_token, lease_until, locked_by, started_at, finished_at, error, created_at, updated_at)
     VALUES (?, ?, '{"n":1}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const now = Date.now();
  connection.transaction(() => {
    for (let i = 0; i < rows; i++) {
      const at = now - ((rows - i) / rows) * 30 * DAY;
      const type = SCALE_TYPES[i % SCALE_TYPES.length];
      const kind = i % 100;
      if (kind === 0) insert.run(type, "queued", 0, now + (i % 30) * DAY + DAY, null, null, null, null, null, null, at, at);
      else if (kind === 1)
        insert.run(type, "dead_letter", 3, at, null, null, null, at, at + 5, '{"name":"Error","message":"x"}', at, at + 5);
      else if (i % 10_000 === 2) insert.run(type, "leased", 1, at, "t", now + 3_600_000, "w", now, null, null, at, now);
      else insert.run(type, "completed", 1, at, null, null, null, at, at + 5, null, at, at + 5);
    }
  })();
  connection.close();
}

/** Requests scale-child.ts answers, one at a time. */
export type ScaleRequest =
  | { readonly do: "claims"; readonly count: number; readonly warmup: number; readonly batch: number }
  | { readonly do: "drain"; readonly count: number; readonly concurrency: number }
  | { readonly do: "snapshots"; readonly count: number }
  | { readonly do: "cleanup"; readonly rows: number }
  | { readonly do: "exit" };

/** Milliseconds of each timed operation, or tasks/second of a drain. */
export type ScaleReply =
  | { readonly samples: number[] }
  | { readonly tasksPerSecond: number }
  | { readonly figures: Figure[] }
  | { readonly maxRssKiB: number }
  | { readonly ready: true };

export interface ScaleSettings {
  /** Tasks already in the table, smallest first. */
  readonly sizes: readonly number[];
  readonly rounds: number;
  readonly claimBatch: number;
  /** Claim transactions timed per round and size (after a few untimed ones). */
  readonly claimsPerRound: number;
  /** Tasks a Worker drains per round and size. */
  readonly drain: number;
  readonly drainConcurrency: number;
  readonly snapshotsPerRound: number;
}

export interface ScaleSize {
  readonly rows: number;
  readonly buildSeconds: number;
  /** One claim transaction of `claimBatch` tasks, ms, over every round. */
  readonly claimMs: Summary;
  /** A Worker draining `drain` tasks, tasks/s, one figure per round. */
  readonly drainTasksPerSecond: Summary;
  /** QueueMetrics.snapshot(), ms, over every round. */
  readonly snapshotMs: Summary;
  readonly rss: PeakRss;
}

export interface Slope {
  readonly figure: string;
  readonly unit: string;
  /** The median at each size. */
  readonly values: number[];
  /** value at each size / value at the smallest. */
  readonly ratios: number[];
}

export interface ScaleResult {
  readonly settings: ScaleSettings;
  readonly sizes: ScaleSize[];
  readonly slopes: Slope[];
  /** Claim latency at the largest size over the smallest: target at most 2. */
  readonly target: { readonly claimRatioAtMost: number; readonly ratio: number; readonly met: boolean };
  /** Cleanup on the largest file. */
  readonly cleanup: Figure[];
}

export const CLAIM_RATIO_TARGET = 2;
const WARMUP_CLAIMS = 5;

/** Each figure's median at every size, and its ratio to the median at the first size. */
export function slopes(
  sizes: readonly Pick<ScaleSize, "claimMs" | "drainTasksPerSecond" | "snapshotMs">[],
  settings: Pick<ScaleSettings, "claimBatch" | "drain" | "drainConcurrency">,
): Slope[] {
  const slope = (figure: string, unit: string, values: number[]): Slope => ({
    figure,
    unit,
    values,
    ratios: values.map((value) => value / (values[0] as number)),
  });
  return [
    slope(
      `claim of ${settings.claimBatch} tasks (one transaction)`,
      "ms",
      sizes.map((size) => size.claimMs.median),
    ),
    slope(
      `Worker (concurrency ${settings.drainConcurrency}) draining ${settings.drain.toLocaleString("en-US")} tasks`,
      "tasks/s",
      sizes.map((size) => size.drainTasksPerSecond.median),
    ),
    slope(
      "QueueMetrics.snapshot()",
      "ms",
      sizes.map((size) => size.snapshotMs.median),
    ),
  ];
}

function expect<Key extends string>(reply: ScaleReply, key: Key): Extract<ScaleReply, Record<Key, unknown>> {
  if (!(key in reply)) throw new Error(`scale-child answered ${JSON.stringify(reply)} where ${key} was expected`);
  return reply as Extract<ScaleReply, Record<Key, unknown>>;
}

export async function measureScale(directory: string, settings: ScaleSettings): Promise<ScaleResult> {
  const files = settings.sizes.map((rows) => {
    const path = join(directory, `scale-${rows}.db`);
    const started = performance.now();
    buildScaleFile(path, rows);
    return { rows, path, buildSeconds: (performance.now() - started) / 1000 };
  });
  const children: IpcChild[] = [];
  try {
    for (const file of files) children.push(spawnIpcChild(benchScript("scale-child.ts"), [file.path]));
    for (const child of children) expect(await child.next<ScaleReply>(), "ready");
    const claims = files.map((): number[] => []);
    const drains = files.map((): number[] => []);
    const snapshots = files.map((): number[] => []);
    for (let round = 0; round < settings.rounds; round++) {
      for (const [index, child] of children.entries()) {
        const ask = (request: ScaleRequest) => child.request<ScaleReply>(request);
        const claimed = await ask({ do: "claims", count: settings.claimsPerRound, warmup: WARMUP_CLAIMS, batch: settings.claimBatch });
        claims[index]?.push(...expect(claimed, "samples").samples);
        const drained = await ask({ do: "drain", count: settings.drain, concurrency: settings.drainConcurrency });
        drains[index]?.push(expect(drained, "tasksPerSecond").tasksPerSecond);
        const snapshot = await ask({ do: "snapshots", count: settings.snapshotsPerRound });
        snapshots[index]?.push(...expect(snapshot, "samples").samples);
      }
    }
    const largest = files.length - 1;
    const cleanup = expect(
      await (children[largest] as IpcChild).request<ScaleReply>({ do: "cleanup", rows: files[largest]?.rows ?? 0 }),
      "figures",
    ).figures;
    const sizes: ScaleSize[] = [];
    for (const [index, child] of children.entries()) {
      const { maxRssKiB } = expect(await child.request<ScaleReply>({ do: "exit" } satisfies ScaleRequest), "maxRssKiB");
      const file = files[index] as (typeof files)[number];
      sizes.push({
        rows: file.rows,
        buildSeconds: file.buildSeconds,
        claimMs: summarize(claims[index] ?? []),
        drainTasksPerSecond: summarize(drains[index] ?? []),
        snapshotMs: summarize(snapshots[index] ?? []),
        rss: { selfKiB: maxRssKiB, children: 0, childMaxKiB: 0 },
      });
    }
    const computed = slopes(sizes, settings);
    const claimRatios = computed[0]?.ratios ?? [];
    const claimRatio = claimRatios[claimRatios.length - 1] ?? Number.NaN;
    return {
      settings,
      sizes,
      slopes: computed,
      target: { claimRatioAtMost: CLAIM_RATIO_TARGET, ratio: claimRatio, met: claimRatio <= CLAIM_RATIO_TARGET },
      cleanup,
    };
  } finally {
    await Promise.all(children.map((child) => ended(child.child)));
  }
}
