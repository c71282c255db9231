// Everything the metrics are computed from, read in one REPEATABLE READ transaction (one snapshot).
import type { MetricsReading } from "@queue/core";
import type { Db } from "../db.js";
import { listWorkers } from "./registry.js";
import { countTasksByStatus } from "./tasks.js";

export async function readMetrics(db: Db, now: number, since: number, latencySample: number): Promise<MetricsReading> {
  const s = db.schema;
  const activeByType = await db.rows<{ type: string; status: "queued" | "leased"; count: number }>(
    `SELECT type, status, count(*) AS count FROM ${s}.tasks WHERE status IN ('queued', 'leased')
     GROUP BY type, status ORDER BY type COLLATE "C", status`,
  );
  const [single] = await db.rows<{ oldest: number | null; retries: number; expired: number }>(
    `SELECT (SELECT min(run_after) FROM ${s}.tasks WHERE status = 'queued' AND run_after <= $1) AS oldest,
            (SELECT coalesce(sum(greatest(attempts - 1, 0)), 0)::bigint FROM ${s}.tasks
               WHERE status IN ('completed', 'dead_letter') AND finished_at >= $2) AS retries,
            (SELECT count(*) FROM ${s}.tasks WHERE status = 'leased' AND lease_until <= $1) AS expired`,
    [now, since],
  );
  const finished = { completed: 0, dead_letter: 0, cancelled: 0 };
  for (const row of await db.rows<{ status: keyof typeof finished; count: number }>(
    `SELECT status, count(*) AS count FROM ${s}.tasks
     WHERE status IN ('completed', 'dead_letter', 'cancelled') AND finished_at >= $1 GROUP BY status`,
    [since],
  )) {
    finished[row.status] = row.count;
  }
  const timings = await db.rows<{ wait: number; run: number }>(
    `SELECT greatest(started_at - run_after, 0) AS wait, finished_at - started_at AS run FROM ${s}.tasks
     WHERE status = 'completed' AND finished_at >= $1 AND started_at IS NOT NULL ORDER BY finished_at DESC LIMIT $2`,
    [since, latencySample],
  );
  const leased = await db.rows<{ worker: string; count: number }>(
    `SELECT locked_by AS worker, count(*) AS count FROM ${s}.tasks WHERE status = 'leased' GROUP BY locked_by`,
  );
  return {
    now,
    depth: await countTasksByStatus(db),
    activeByType,
    oldestRunnableSince: single?.oldest ?? null,
    finished,
    retries: single?.retries ?? 0,
    timings,
    workers: await listWorkers(db),
    leasedByWorker: Object.fromEntries(leased.map((row) => [row.worker, row.count])),
    expiredLeases: single?.expired ?? 0,
    storage: null,
  };
}
