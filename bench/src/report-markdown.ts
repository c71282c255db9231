// The results as Markdown: a header saying where and how they were measured, then one section per
// scenario, each with its peak RSS and its targets met or not.
import type { LatencyResult } from "./latency.js";
import type { BackendRatio, TargetResult } from "./measure.js";
import type { MixedResult } from "./mixed.js";
import type { ScaleResult } from "./operations.js";
import type { BenchResults, ThroughputResult } from "./report.js";
import { formatRss } from "./rss.js";

const count = (value: number) => Math.round(value).toLocaleString("en-US");
const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const ratio = (value: number) => `${value.toFixed(2)}x`;
const mib = (kib: number) => `${Math.round(kib / 1024)} MiB`;
/** A table cell: no pipe may end it early. */
const cell = (text: string) => text.replace(/\|/g, "\\|");

export function header(results: BenchResults): string[] {
  const { machine } = results;
  return [
    "# Benchmark results",
    "",
    `${results.date} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}), Node ${machine.node}, SQLite ${machine.sqlite}${packagesNote(machine.packages)}.`,
    `${results.rounds} interleaved rounds per throughput scenario${results.quick ? " (--quick: smaller sizes and shorter runs, a smoke run)" : ""}; figures are medians (min-max); ratios are medians over the reference's median in the same run. Peer queues: --peers ${results.peers}.`,
    "",
    `${results.rssMethod}`,
    "",
  ];
}

export function throughputSection(result: ThroughputResult): string[] {
  const lines = [
    `## ${result.title}`,
    "",
    `| variant | ${result.unit} | ratio to "${cell(result.reference)}" | peak RSS |`,
    "| --- | ---: | ---: | ---: |",
  ];
  for (const comparison of result.comparisons) {
    const { opsPerSecond } = comparison;
    if (comparison.notRun !== undefined || opsPerSecond === undefined) {
      lines.push(`| ${cell(comparison.variant)} | not run: ${cell(comparison.notRun ?? "no figure")} | | |`);
      continue;
    }
    lines.push(
      `| ${cell(comparison.variant)} | ${count(opsPerSecond.median)} (${count(opsPerSecond.min)}-${count(opsPerSecond.max)}) | ${ratio(comparison.ratio ?? Number.NaN)} | ${formatRss(result.rss[comparison.variant])} |`,
    );
  }
  for (const target of result.targets) {
    const verdict =
      target.notEvaluated !== undefined
        ? `not judged (${target.notEvaluated})`
        : `${ratio(target.ratio)}, ${target.met ? "met" : "NOT met"}`;
    lines.push("", `Target: ${target.variant} >= ${target.atLeast}x ${targetBaseline(target, "the reference")}: ${verdict}.`);
  }
  lines.push("");
  if (result.backends !== undefined && result.backends.length > 0) lines.push(...backendTable(result.backends, result.unit, count));
  return lines;
}

/**
 * What a target compares with: the reference (as `reference` says it), the variant it names, or
 * the best of several, with the one that was best in this run.
 */
export function targetBaseline(target: TargetResult, reference: string): string {
  if (target.ofBest !== undefined) {
    const best = target.notEvaluated === undefined ? ` (${target.baseline})` : "";
    return `the best of ${target.ofBest.map((name) => `"${name}"`).join(", ")}${best}`;
  }
  return target.of === undefined ? reference : `"${target.of}"`;
}

/**
 * Our PostgreSQL backend beside our SQLite backend, operation by operation, in the same run: what
 * moving to PostgreSQL costs (or gains). `unit` names the figure, `format` writes one.
 */
export function backendTable(
  rows: readonly BackendRatio[],
  unit: string,
  format: (value: number) => string,
  higherIsBetter = true,
): string[] {
  const side = (median: number | undefined, notRun: string | undefined) =>
    median !== undefined ? format(median) : `not run: ${cell(notRun ?? "no figure")}`;
  const lines = [
    `Our PostgreSQL backend against our SQLite backend, the same operation in this run (PostgreSQL / SQLite: ${higherIsBetter ? "below" : "above"} 1x, PostgreSQL is slower):`,
    "",
    `| operation | SQLite ${unit} | PostgreSQL ${unit} | PostgreSQL / SQLite |`,
    "| --- | ---: | ---: | ---: |",
  ];
  for (const row of rows)
    lines.push(
      `| ${cell(row.sqlite)} | ${side(row.sqliteMedian, row.sqliteNotRun)} | ${side(row.postgresMedian, row.postgresNotRun)} | ${row.ratio === undefined ? "" : ratio(row.ratio)} |`,
    );
  lines.push("");
  return lines;
}

export function latencySection(result: LatencyResult): string[] {
  const options = result.workerOptions;
  const lines = [
    "## Latency from enqueue() to handler start",
    "",
    `${count(result.ratePerSecond * result.seconds)} no-op tasks at a steady ${count(result.ratePerSecond)} tasks/s (${result.seconds} s), the first ${count(result.warmupTasks)} run but not counted. ` +
      "The producer writes the wall-clock time (performance.timeOrigin + performance.now()) into the payload just before calling enqueue(); the handler subtracts it from the same clock as it starts. " +
      `The Worker has the defaults a user gets: concurrency ${options.concurrency}, pollIntervalMs ${options.pollIntervalMs}, leaseMs ${options.leaseMs}, heartbeatMs ${options.heartbeatMs}, strategy ${options.strategy}; ` +
      "a Worker in the producing process is woken at once by the enqueue, one in another process notices new work when it next polls on SQLite, " +
      "and is woken by LISTEN/NOTIFY on PostgreSQL (each PostgreSQL variant in a fresh schema).",
    "",
    "| variant | tasks | p50 | p95 | p99 | max | target | peak RSS |",
    "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
  ];
  for (const figure of result.figures) {
    if ("notRun" in figure) {
      const target = figure.target === undefined ? "" : `p50 <= ${figure.target.p50AtMost} ms: not judged`;
      lines.push(`| ${cell(figure.variant)} | not run: ${cell(figure.notRun)} | | | | | ${target} | |`);
      continue;
    }
    const target = figure.target === undefined ? "" : `p50 <= ${figure.target.p50AtMost} ms: ${figure.target.met ? "met" : "NOT met"}`;
    lines.push(
      `| ${cell(figure.variant)} | ${count(figure.tasks)} | ${ms(figure.p50)} | ${ms(figure.p95)} | ${ms(figure.p99)} | ${ms(figure.max)} | ${target} | ${formatRss(figure.rss)} |`,
    );
  }
  lines.push("");
  if (result.backends !== undefined && result.backends.length > 0) lines.push(...backendTable(result.backends, "p50", ms, false));
  return lines;
}

export function mixedSection(result: MixedResult): string[] {
  const { settings } = result;
  const clean = result.duplicates === 0 && result.unrecorded === 0 && result.lost === 0 && result.errors.length === 0;
  const lines = [
    "## Producers and workers at once",
    "",
    `${settings.producers} producer processes (each keeping ${settings.inFlight} enqueue() calls in flight) and ${settings.workers} worker processes ` +
      `(concurrency ${settings.concurrency}, other options default) on one file for ${settings.seconds} s. Every execution is recorded by task id.`,
    "",
    "| enqueued/s | processed/s | backlog at the end | tasks run twice | peak RSS |",
    "| ---: | ---: | ---: | ---: | ---: |",
    `| ${count(result.enqueuedPerSecond)} | ${count(result.processedPerSecond)} | ${count(result.backlog)} | ${count(result.duplicates)} | producers ${settings.producers} × ${mib(result.producerMaxRssKiB)}, workers ${settings.workers} × ${mib(result.workerMaxRssKiB)} |`,
    "",
    `${count(result.enqueued)} enqueued, ${count(result.processed)} processed. ` +
      (clean
        ? "No task ran twice, every task that ran is recorded as completed, every task enqueued either ran or is in the backlog, and no process reported an error."
        : `PROBLEM: ${result.duplicates} tasks ran twice, ${result.unrecorded} ran without being recorded as completed, ${result.lost} were lost, errors: ${result.errors.slice(0, 5).join("; ") || "none"}.`),
    "",
  ];
  return lines;
}

export function scaleSection(result: ScaleResult): string[] {
  const { settings } = result;
  const sizes = result.sizes;
  const smallest = count(sizes[0]?.rows ?? 0);
  const largest = count(sizes[sizes.length - 1]?.rows ?? 0);
  const summary = (value: { median: number; min: number; max: number }, format: (value: number) => string) =>
    `${format(value.median)} (${format(value.min)}-${format(value.max)})`;
  const plain = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
  const lines = [
    "## The same operations on a growing table",
    "",
    "Each file holds the given number of tasks (98% completed over the last 30 days, 1% dead letters, 1% queued but scheduled for later, a few leased); " +
      "the tasks claimed and drained are added as runnable just before each measurement and removed after it. " +
      `A claim is one transaction through the worker engine's claim() (expired-lease recovery, then the claim statement) for ${settings.claimBatch} tasks, with a Worker's default strategy, lease and type filter; ` +
      `the drain is a Worker at concurrency ${settings.drainConcurrency} running ${count(settings.drain)} no-op tasks until the queue is empty. ` +
      `${settings.rounds} rounds interleaved across the sizes; each size in its own process.`,
    "",
    `| tasks in the table | claim of ${settings.claimBatch} (ms) | Worker drain (tasks/s) | QueueMetrics.snapshot() (ms) | file built in | peak RSS |`,
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const size of sizes) {
    lines.push(
      `| ${count(size.rows)} | ${summary(size.claimMs, plain)} | ${summary(size.drainTasksPerSecond, count)} | ${summary(size.snapshotMs, plain)} | ${size.buildSeconds.toFixed(1)} s | ${formatRss(size.rss)} |`,
    );
  }
  const others = sizes.slice(1);
  lines.push(
    "",
    `How each figure changes with the table's size (median at that size over the median at ${smallest}):`,
    "",
    `| figure | ${others.map((size) => `${count(size.rows)} vs ${smallest}`).join(" | ")} |`,
    `| --- | ${others.map(() => "---:").join(" | ")} |`,
  );
  for (const slope of result.slopes) {
    lines.push(`| ${cell(slope.figure)} (${slope.unit}) | ${slope.ratios.slice(1).map(ratio).join(" | ")} |`);
  }
  lines.push(
    "",
    `Target: claim latency at ${largest} within ${result.target.claimRatioAtMost}x of at ${smallest}: ${ratio(result.target.ratio)}, ${result.target.met ? "met" : "NOT met"}.`,
    "",
  );
  if (result.cleanup.length > 0) {
    lines.push(`### Cleanup on the ${largest}-task file`, "", "| operation | figure | detail |", "| --- | ---: | --- |");
    for (const figure of result.cleanup)
      lines.push(`| ${cell(figure.what)} | ${count(figure.value)} ${figure.unit} | ${cell(figure.detail)} |`);
    lines.push("");
  }
  return lines;
}

export function renderMarkdown(results: BenchResults): string {
  return [
    ...header(results),
    ...Object.values(results.results).flatMap(throughputSection),
    ...(results.latency === undefined ? [] : latencySection(results.latency)),
    ...(results.mixed === undefined ? [] : mixedSection(results.mixed)),
    ...(results.scale === undefined ? [] : scaleSection(results.scale)),
  ].join("\n");
}

/** Which build of the packages ran, for the header. */
function packagesNote(packages: "compiled" | "sources" | undefined): string {
  if (packages === undefined) return "";
  return packages === "compiled" ? "; the compiled packages (dist)" : "; the TypeScript sources through tsx";
}
