// The shape of a benchmark run's results (what latest.json holds) and what the chart shows.
import type { LatencyResult } from "./latency.js";
import type { BackendRatio, TargetResult } from "./measure.js";
import type { MixedResult } from "./mixed.js";
import type { ScaleResult } from "./operations.js";
import type { PeakRss } from "./rss.js";
import type { Summary } from "./stats.js";
import { type ChartGroup, renderChart } from "./svg.js";

/** A variant's figures in a throughput scenario; a variant that was not run says why instead. */
export interface ComparisonRow {
  readonly variant: string;
  readonly opsPerSecond?: Summary;
  readonly ratio?: number;
  readonly notRun?: string;
}

export interface ThroughputResult {
  readonly title: string;
  readonly unit: string;
  readonly reference: string;
  readonly comparisons: readonly ComparisonRow[];
  readonly targets: readonly TargetResult[];
  /** Our PostgreSQL backend over our SQLite backend, operation by operation (absent in results written before it was recorded). */
  readonly backends?: readonly BackendRatio[];
  /** Peak RSS by variant. */
  readonly rss: Readonly<Record<string, PeakRss>>;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly node: string;
  readonly sqlite: string;
  readonly platform: string;
  /** Which build of the packages was measured (absent in results written before it was recorded). */
  readonly packages?: "compiled" | "sources";
}

export interface BenchResults {
  readonly date: string;
  readonly machine: Machine;
  readonly quick: boolean;
  readonly rounds: number;
  /** Which peer queues joined (--peers). */
  readonly peers: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly rssMethod: string;
  /** The throughput scenarios, by name. */
  readonly results: Readonly<Record<string, ThroughputResult>>;
  readonly latency?: LatencyResult;
  readonly mixed?: MixedResult;
  readonly scale?: ScaleResult;
}

/** One chart group per throughput scenario; the reference bar is grey. */
export function chartGroups(results: Readonly<Record<string, ThroughputResult>>, isPeer: (variant: string) => boolean): ChartGroup[] {
  return Object.values(results).map((result) => ({
    title: result.title,
    unit: result.unit,
    bars: result.comparisons.map((comparison) => ({
      label: comparison.variant,
      value: comparison.opsPerSecond?.median ?? 0,
      ratio: comparison.ratio ?? Number.NaN,
      kind: comparison.variant === result.reference ? "reference" : isPeer(comparison.variant) ? "peer" : "queue",
      ...(comparison.notRun === undefined ? {} : { notRun: comparison.notRun }),
    })),
  }));
}

/** The chart of a run's throughput scenarios; undefined when it has none. */
export function renderResultsChart(results: BenchResults, isPeer: (variant: string) => boolean): string | undefined {
  const groups = chartGroups(results.results, isPeer);
  if (groups.length === 0) return undefined;
  const { machine } = results;
  const subtitle =
    `${results.date.slice(0, 10)}, ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, SQLite ${machine.sqlite}` +
    `${results.quick ? ", --quick" : ""}; medians of ${results.rounds} rounds; the ratio is to each scenario's reference`;
  return renderChart(groups, { title: "Throughput by scenario: the queue beside the raw SQLite limit and peer queues", subtitle });
}
