import { asStore, type QueueDatabase, type QueueStore, type Task, taskFromRow } from "@queue/core";

export interface LeaseRecoveryReport {
  /** Back in the queue for another attempt. */
  readonly requeued: readonly Task[];
  /** Their expired lease was their last attempt. */
  readonly deadLettered: readonly Task[];
  /** A cancel was pending when their worker stopped. */
  readonly cancelled: readonly Task[];
}

/**
 * Recovers expired leases now (workers also do this whenever they claim, so this is only needed
 * when no worker is running) and says what happened to each task.
 */
export async function recoverExpiredLeasesNow(source: QueueStore | QueueDatabase): Promise<LeaseRecoveryReport> {
  const tasks = (await asStore(source).recoverExpiredLeases()).map((row) => taskFromRow(row));
  return {
    requeued: tasks.filter((task) => task.status === "queued"),
    deadLettered: tasks.filter((task) => task.status === "dead_letter"),
    cancelled: tasks.filter((task) => task.status === "cancelled"),
  };
}

/** Removes workers whose last heartbeat is older than `olderThanMs`; returns their ids. */
export async function cleanupStaleWorkers(source: QueueStore | QueueDatabase, olderThanMs: number): Promise<string[]> {
  const store = asStore(source);
  return store.deleteStaleWorkers(store.clock.now() - olderThanMs);
}
