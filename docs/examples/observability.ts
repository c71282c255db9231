import type { QueueDatabase } from "@queue/core";
import { healthSummary, QueueMetrics, serveMetrics, TaskFeed } from "@queue/observability";

export async function observe(db: QueueDatabase): Promise<void> {
  const metrics = new QueueMetrics(db, { windowMs: 5 * 60_000 });
  const snapshot = await metrics.snapshot();
  console.log(snapshot.depth, snapshot.oldestQueuedAgeMs, snapshot.waitTimeMs.p95);

  const health = healthSummary(snapshot, { failureRate: { warn: 0.02, critical: 0.1 } });
  if (health.status !== "ok") console.warn(health.reasons.map((reason) => reason.message).join("; "));

  // Prometheus scrapes http://127.0.0.1:9464/metrics; /healthz answers 503 when critical.
  await serveMetrics({ metrics, port: 9464, token: process.env.METRICS_TOKEN });

  // Follow every change, made by any process on the file.
  const feed = new TaskFeed(db);
  feed.on("change", (task) => console.log(task.id, task.status));
  feed.start();
}
