import { healthSummary, QueueMetrics, toPrometheus } from "@queue/observability";
import type { TourStep } from "./step.js";

const ms = (value: number | null) => (value === null ? "-" : `${Math.round(value * 10) / 10} ms`);

/** What the file holds and how it has been doing, read in one consistent snapshot. */
export const observeStep: TourStep = {
  name: "observe",
  title: "Observability: stats, percentiles, health, Prometheus",
  summary:
    "One snapshot reads depth, throughput, wait and run time percentiles and workers in a single read transaction, each query on an index.",
  async run(tour) {
    const snapshot = await new QueueMetrics(tour.db, { windowMs: 10 * 60_000 }).snapshot();
    const depth = Object.entries(snapshot.depth)
      .map(([status, count]) => `${status} ${count}`)
      .join(", ");
    tour.call(
      "const snapshot = await new QueueMetrics(db, { windowMs: 10 * 60_000 }).snapshot()",
      `depth: ${depth}`,
      `completed in the last 10 minutes: ${snapshot.finishedInWindow.completed} (${snapshot.throughputPerMinute.completed} a minute over the window)`,
      `wait (enqueued -> started): p50 ${ms(snapshot.waitTimeMs.p50)}, p95 ${ms(snapshot.waitTimeMs.p95)}, p99 ${ms(snapshot.waitTimeMs.p99)}`,
      `run (started -> finished): p50 ${ms(snapshot.runTimeMs.p50)}, p95 ${ms(snapshot.runTimeMs.p95)}, p99 ${ms(snapshot.runTimeMs.p99)}`,
    );

    const health = healthSummary(snapshot);
    tour.call(
      "healthSummary(snapshot)",
      `${health.status}${health.reasons.length === 0 ? " (no threshold crossed)" : `: ${health.reasons.map((reason) => reason.message).join("; ")}`}`,
    );

    const text = toPrometheus(snapshot, health);
    const samples = text.split("\n").filter((line) => /^queue_(tasks|health_status)\b/.test(line));
    tour.call(
      "toPrometheus(snapshot)",
      `${text.split("\n").filter((line) => line !== "" && !line.startsWith("#")).length} samples; among them:`,
      ...samples.map((line) => `  ${line}`),
    );
    tour.note("Served for scraping by serveMetrics({ metrics, port: 9464 }); from a terminal: queue stats (--watch, --json).");
    return {
      ok: snapshot.depth.queued === 0 && snapshot.depth.leased === 0 && snapshot.waitTimeMs.p50 !== null,
      data: { depth: snapshot.depth, waitTimeMs: snapshot.waitTimeMs, runTimeMs: snapshot.runTimeMs, health: health.status, samples },
    };
  },
};
