import type { WorkerRecord } from "../types.js";
import { dateFromMillis, stringArrayFromColumn } from "./json.js";

/** A `workers` row exactly as SQLite returns it. */
export interface WorkerRow {
  id: string;
  host: string;
  pid: number;
  capabilities: string;
  started_at: number;
  heartbeat_at: number;
}

export const WORKER_COLUMNS = "id, host, pid, capabilities, started_at, heartbeat_at";

export function workerFromRow(row: WorkerRow): WorkerRecord {
  return Object.freeze({
    id: row.id,
    host: row.host,
    pid: row.pid,
    capabilities: stringArrayFromColumn(row.capabilities, "workers.capabilities", row.id),
    startedAt: dateFromMillis(row.started_at),
    heartbeatAt: dateFromMillis(row.heartbeat_at),
  });
}
