import type { QueueDatabase } from "../database.js";
import { WORKER_COLUMNS, type WorkerRow } from "../models/worker-row.js";

export interface WorkerRegistration {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** JSON array text. */
  readonly capabilities: string;
}

/** Registers (or re-registers, after a restart under the same id) a worker. */
export function registerWorker(db: QueueDatabase, worker: WorkerRegistration, now: number): void {
  db.statement(
    `INSERT INTO workers (id, host, pid, capabilities, started_at, heartbeat_at) VALUES (:id, :host, :pid, :capabilities, :now, :now)
     ON CONFLICT (id) DO UPDATE SET host = excluded.host, pid = excluded.pid, capabilities = excluded.capabilities,
       started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
  ).run({ ...worker, now });
}

export function touchWorker(db: QueueDatabase, id: string, now: number): void {
  db.statement("UPDATE workers SET heartbeat_at = :now WHERE id = :id").run({ id, now });
}

export function deregisterWorker(db: QueueDatabase, id: string): void {
  db.statement("DELETE FROM workers WHERE id = ?").run(id);
}

export function listWorkers(db: QueueDatabase): WorkerRow[] {
  return db.statement<WorkerRow>(`SELECT ${WORKER_COLUMNS} FROM workers ORDER BY id`).all();
}
