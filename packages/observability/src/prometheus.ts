import { type HealthSummary, healthSummary } from "./health.js";
import type { MetricsSnapshot } from "./metrics.js";

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly help: string;
  /** Gauge unless said otherwise; families with `quantile` labels are summaries (the label is reserved for them). */
  readonly type?: "gauge" | "summary";
  readonly samples: readonly { readonly labels?: Labels; readonly value: number | null }[];
}

/** Escapes a label value as the text format requires: backslash, double quote and newline. */
function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function formatLabels(labels: Labels | undefined): string {
  if (labels === undefined) return "";
  const entries = Object.entries(labels);
  return entries.length === 0 ? "" : `{${entries.map(([key, value]) => `${key}="${escapeLabel(value)}"`).join(",")}}`;
}

function render(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type ?? "gauge"}`);
    for (const sample of family.samples) {
      if (sample.value === null || !Number.isFinite(sample.value)) continue;
      lines.push(`${family.name}${formatLabels(sample.labels)} ${sample.value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const HEALTH_VALUE = { ok: 0, warn: 1, critical: 2 } as const;

/**
 * The snapshot in Prometheus text exposition format (version 0.0.4). Every metric is a gauge except
 * the wait and run time quantiles, which are summaries over the snapshot's window (quantiles only).
 */
export function toPrometheus(snapshot: MetricsSnapshot, health: HealthSummary = healthSummary(snapshot)): string {
  const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);
  const window = `over the last ${snapshot.windowMs / 1000} s`;
  const quantiles = (values: MetricsSnapshot["waitTimeMs"]) => [
    { labels: { quantile: "0.5" }, value: seconds(values.p50) },
    { labels: { quantile: "0.95" }, value: seconds(values.p95) },
    { labels: { quantile: "0.99" }, value: seconds(values.p99) },
  ];
  return render([
    {
      name: "queue_tasks",
      help: "Tasks in the queue file, by status.",
      samples: Object.entries(snapshot.depth).map(([status, value]) => ({ labels: { status }, value })),
    },
    {
      name: "queue_active_tasks",
      help: "Queued and leased tasks, by type and status.",
      samples: snapshot.activeByType.map((row) => ({ labels: { type: row.type, status: row.status }, value: row.count })),
    },
    {
      name: "queue_oldest_queued_age_seconds",
      help: "How long the longest-waiting runnable task has waited.",
      samples: [{ value: seconds(snapshot.oldestQueuedAgeMs) }],
    },
    {
      name: "queue_tasks_finished_window",
      help: `Tasks that reached a final status ${window}.`,
      samples: [
        { labels: { status: "completed" }, value: snapshot.finishedInWindow.completed },
        { labels: { status: "dead_letter" }, value: snapshot.finishedInWindow.deadLettered },
        { labels: { status: "cancelled" }, value: snapshot.finishedInWindow.cancelled },
      ],
    },
    {
      name: "queue_throughput_per_minute",
      help: `Tasks completed and dead-lettered per minute ${window}.`,
      samples: [
        { labels: { outcome: "completed" }, value: snapshot.throughputPerMinute.completed },
        { labels: { outcome: "failed" }, value: snapshot.throughputPerMinute.failed },
      ],
    },
    {
      name: "queue_task_rate",
      help: `Success, failure and retry rates of tasks finished ${window}.`,
      samples: [
        { labels: { kind: "success" }, value: snapshot.rates.success },
        { labels: { kind: "failure" }, value: snapshot.rates.failure },
        { labels: { kind: "retry" }, value: snapshot.rates.retry },
      ],
    },
    {
      name: "queue_task_wait_seconds",
      help: `Time from runnable to started, quantiles ${window}.`,
      type: "summary",
      samples: quantiles(snapshot.waitTimeMs),
    },
    {
      name: "queue_task_run_seconds",
      help: `Time from started to completed, quantiles ${window}.`,
      type: "summary",
      samples: quantiles(snapshot.runTimeMs),
    },
    {
      name: "queue_workers",
      help: "Registered workers, active or stale (no recent heartbeat).",
      samples: [
        { labels: { state: "active" }, value: snapshot.workers.filter((worker) => !worker.stale).length },
        { labels: { state: "stale" }, value: snapshot.workers.filter((worker) => worker.stale).length },
      ],
    },
    {
      name: "queue_worker_leased_tasks",
      help: "Tasks each worker holds leases on.",
      samples: snapshot.workers.map((worker) => ({ labels: { worker: worker.id }, value: worker.leased })),
    },
    { name: "queue_expired_leases", help: "Leases past expiry not yet recovered.", samples: [{ value: snapshot.expiredLeases }] },
    {
      name: "queue_file_bytes",
      help: "Size of the database file and of its write-ahead log.",
      samples: [
        { labels: { file: "database" }, value: snapshot.file.bytes },
        { labels: { file: "wal" }, value: snapshot.file.walBytes },
      ],
    },
    { name: "queue_health_status", help: "Overall health: 0 ok, 1 warn, 2 critical.", samples: [{ value: HEALTH_VALUE[health.status] }] },
  ]);
}
