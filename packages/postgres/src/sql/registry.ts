// The small shared tables: pauses, the registry of workers, and when maintenance jobs last ran.
import { WORKER_COLUMNS, type WorkerInfo, type WorkerRow } from "@queue/core";
import type { Db } from "../db.js";

export async function pauseType(db: Db, type: string, now: number): Promise<void> {
  await db.rows(`INSERT INTO ${db.schema}.queue_pauses (type, paused_at) VALUES ($1, $2) ON CONFLICT (type) DO NOTHING`, [type, now]);
}

/** Resumes a type; true when it was paused. */
export async function resumeType(db: Db, type: string): Promise<boolean> {
  return (await db.rows(`DELETE FROM ${db.schema}.queue_pauses WHERE type = $1 RETURNING type`, [type])).length === 1;
}

export async function pausedTypes(db: Db): Promise<string[]> {
  const rows = await db.rows<{ type: string }>(`SELECT type FROM ${db.schema}.queue_pauses ORDER BY type COLLATE "C"`);
  return rows.map((row) => row.type);
}

/** Registers (or re-registers, after a restart under the same id) a worker. */
export async function registerWorker(db: Db, worker: WorkerInfo, now: number): Promise<void> {
  await db.rows(
    `INSERT INTO ${db.schema}.workers (id, host, pid, capabilities, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, capabilities = excluded.capabilities,
       started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
    [worker.id, worker.host, worker.pid, JSON.stringify(worker.capabilities), now],
  );
}

export async function touchWorker(db: Db, id: string, now: number): Promise<void> {
  await db.rows(`UPDATE ${db.schema}.workers SET heartbeat_at = $2 WHERE id = $1`, [id, now]);
}

export async function deregisterWorker(db: Db, id: string): Promise<void> {
  await db.rows(`DELETE FROM ${db.schema}.workers WHERE id = $1`, [id]);
}

export async function listWorkers(db: Db): Promise<WorkerRow[]> {
  return db.rows<WorkerRow>(`SELECT ${WORKER_COLUMNS} FROM ${db.schema}.workers ORDER BY id COLLATE "C"`);
}

/** Removes workers whose heartbeat is older than `before`; returns their ids. */
export async function deleteStaleWorkers(db: Db, before: number): Promise<string[]> {
  const rows = await db.rows<{ id: string }>(`DELETE FROM ${db.schema}.workers WHERE heartbeat_at < $1 RETURNING id`, [before]);
  return rows.map((row) => row.id);
}

export async function recordMaintenanceRun(db: Db, job: string, at: number, result: string | null): Promise<void> {
  await db.rows(
    `INSERT INTO ${db.schema}.queue_maintenance (job, last_run_at, last_result) VALUES ($1, $2, $3)
     ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at, last_result = excluded.last_result`,
    [job, at, result],
  );
}

export async function maintenanceRuns(db: Db): Promise<Map<string, number>> {
  const rows = await db.rows<{ job: string; last_run_at: number }>(`SELECT job, last_run_at FROM ${db.schema}.queue_maintenance`);
  return new Map(rows.map((row) => [row.job, row.last_run_at]));
}
