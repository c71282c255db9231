// Operations at scale: how long the metrics take on a large file, and how fast cleanup removes rows.
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openQueueDatabase } from "@queue/core";
import { cleanup } from "@queue/maintenance";
import { QueueMetrics } from "@queue/observability";
import { summarize } from "./stats.js";

/** One measured figure of the "at scale" section. */
export interface Figure {
  readonly what: string;
  readonly value: number;
  readonly unit: string;
  readonly detail: string;
}

const DAY = 86_400_000;

/**
 * A file shaped like a long-lived queue: `rows` tasks, 98% completed over the last 30 days, 1% dead
 * letters, 1% still queued, and a few leased.
 */
function buildLargeFile(path: string, rows: number): void {
  const db = openQueueDatabase({ path });
  const now = Date.now();
  const insert = db.statement(
    `INSERT INTO tasks (type, status, payload, attempts, run_after, lease_token, lease_until, locked_by, started_at, finished_at, error, created_at, updated_at)
     VALUES (?, ?, '{"n":1}', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (let start = 0; start < rows; start += 10_000) {
    db.transactionSync(() => {
      for (let i = start; i < Math.min(rows, start + 10_000); i++) {
        const age = ((rows - i) / rows) * 30 * DAY;
        const at = now - age;
        const kind = i % 100;
        const type = `type-${i % 8}`;
        if (kind === 0) insert.run(type, "queued", at, null, null, null, null, null, null, at, at);
        else if (kind === 1)
          insert.run(type, "dead_letter", at, null, null, null, at, at + 5, '{"name":"Error","message":"x"}', at, at + 5);
        else if (i % 10_000 === 2) insert.run(type, "leased", at, "t", now + 60_000, "w", now, null, null, at, now);
        else insert.run(type, "completed", at, null, null, null, at, at + 5, null, at, at + 5);
      }
    });
  }
  db.close();
}

export async function measureOperationsAtScale(directory: string, rows: number, rounds: number): Promise<Figure[]> {
  const path = join(directory, `scale-${rows}.db`);
  const built = performance.now();
  buildLargeFile(path, rows);
  const buildSeconds = (performance.now() - built) / 1000;
  const db = openQueueDatabase({ path });
  const figures: Figure[] = [];
  try {
    const metrics = new QueueMetrics(db, { windowMs: 5 * 60_000 });
    const samples: number[] = [];
    metrics.snapshot();
    for (let round = 0; round < rounds * 4; round++) {
      const started = performance.now();
      metrics.snapshot();
      samples.push(performance.now() - started);
    }
    const snapshot = summarize(samples);
    figures.push({
      what: `QueueMetrics.snapshot() on ${rows.toLocaleString("en-US")} tasks`,
      value: snapshot.median,
      unit: "ms",
      detail: `median of ${samples.length} (min ${snapshot.min.toFixed(1)}, max ${snapshot.max.toFixed(1)}); file built in ${buildSeconds.toFixed(1)} s`,
    });
    const old = Math.round(rows * 0.98 * (20 / 30));
    const started = performance.now();
    const report = await cleanup(db, { completedOlderThanMs: 10 * DAY, batchSize: 500 });
    const seconds = (performance.now() - started) / 1000;
    figures.push({
      what: `cleanup of completed tasks older than 10 days (about ${old.toLocaleString("en-US")})`,
      value: report.completed / seconds,
      unit: "rows/s",
      detail: `${report.completed.toLocaleString("en-US")} rows in ${report.batches} batches of 500, ${seconds.toFixed(1)} s`,
    });
    const archived = performance.now();
    const archiveReport = await cleanup(db, { completedOlderThanMs: 5 * DAY, batchSize: 500, archive: true });
    const archiveSeconds = (performance.now() - archived) / 1000;
    figures.push({
      what: "cleanup into the archive table",
      value: archiveReport.archived / archiveSeconds,
      unit: "rows/s",
      detail: `${archiveReport.archived.toLocaleString("en-US")} rows, ${archiveSeconds.toFixed(1)} s`,
    });
  } finally {
    db.close();
  }
  return figures;
}
