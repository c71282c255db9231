import type { Task } from "@queue/core";
import type { WorkerEvents } from "./events.js";

export interface WorkerStats {
  claimed: number;
  completed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  cancelled: number;
  leaseLost: number;
  recovered: number;
}

export function emptyStats(): WorkerStats {
  return { claimed: 0, completed: 0, failed: 0, retried: 0, deadLettered: 0, cancelled: 0, leaseLost: 0, recovered: 0 };
}

/** Where a worker's roles report what happened: the Worker's events and its counters. */
export interface Report {
  readonly stats: WorkerStats;
  emit<K extends keyof WorkerEvents>(event: K, ...args: Parameters<WorkerEvents[K]>): void;
  listenerCount(event: keyof WorkerEvents): number;
}

/** The worker answered for a task whose lease it no longer held; the answer changed nothing. */
export function reportLeaseLost(report: Report, task: Task): void {
  report.stats.leaseLost += 1;
  report.emit("lease-lost", task);
}
