import { createServer, type Server } from "node:http";
import type { QueueClient } from "@queue/client";
import type { QueueDatabase, Task } from "@queue/core";
import { createMetricsHandler, healthSummary, QueueMetrics, TaskFeed } from "@queue/observability";

/** A periodic check for the on-call channel: the reasons health is not ok, each naming its threshold. */
export async function queueAlerts(db: QueueDatabase): Promise<string[]> {
  const snapshot = await new QueueMetrics(db, { windowMs: 15 * 60_000 }).snapshot();
  const health = healthSummary(snapshot, { p95WaitMs: { warn: 5_000 }, oldestQueuedAgeMs: { critical: 15 * 60_000 } });
  return health.reasons.map((reason) => `${reason.status}: ${reason.message}`);
}

/** Prometheus text on /metrics and a health answer on /healthz (503 when critical), behind a token. */
export function metricsServer(db: QueueDatabase): Server {
  const metrics = new QueueMetrics(db);
  return createServer(createMetricsHandler({ metrics, token: process.env.METRICS_TOKEN })).listen(9464, "127.0.0.1");
}

/** Dead letters, page by page: a cursor, never an offset, so a page costs the same at any depth. */
export async function deadLetters(client: QueueClient): Promise<Task[]> {
  const found: Task[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.list({ status: "dead_letter", limit: 100, ...(cursor === undefined ? {} : { cursor }) });
    found.push(...page.tasks);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return found;
}

/** Every change any process makes to the file, in order: for a live view or an audit trail. */
export function followChanges(db: QueueDatabase, onChange: (task: Task) => void): TaskFeed {
  const feed = new TaskFeed(db, { intervalMs: 500 });
  feed.on("change", onChange);
  feed.on("error", (error) => console.error("task feed:", error));
  return feed.start();
}
