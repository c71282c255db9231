import { notifyLocalWorkers, purgeDeadLetters, type QueueDatabase, retryDeadLetters, summarizeDeadLetters } from "@queue/core";
import { inBatches } from "./batches.js";

export interface DeadLetterGroup {
  readonly type: string;
  readonly errorName: string | null;
  readonly errorMessage: string | null;
  readonly count: number;
  /** One task of the group to look at. */
  readonly exampleId: number;
  readonly lastFailedAt: Date;
}

/** Dead-lettered tasks grouped by type and error, largest group first. */
export function deadLetterSummary(db: QueueDatabase, options: { readonly type?: string } = {}): DeadLetterGroup[] {
  return db
    .read((tx) => summarizeDeadLetters(tx, options.type))
    .map((row) => ({
      type: row.type,
      errorName: row.error_name,
      errorMessage: row.error_message,
      count: row.count,
      exampleId: row.first_id,
      lastFailedAt: new Date(row.last_finished_at),
    }));
}

/** Sends every dead-lettered task (of one type, or all) back to the queue with attempts reset. */
export async function retryAllDeadLetters(
  db: QueueDatabase,
  options: { readonly type?: string; readonly batchSize?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  let retried = 0;
  const batches = inBatches(
    db,
    batchSize,
    (tx) => retryDeadLetters(tx, options.type, batchSize, tx.clock.now()),
    (ids) => ids.length,
  );
  for await (const ids of batches) {
    retried += ids.length;
    if (ids.length > 0) notifyLocalWorkers(db.path);
  }
  return retried;
}

/** Deletes every dead-lettered task (of one type, or all), with its logs. */
export async function purgeAllDeadLetters(
  db: QueueDatabase,
  options: { readonly type?: string; readonly batchSize?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? 500;
  let purged = 0;
  for await (const deleted of inBatches(
    db,
    batchSize,
    (tx) => purgeDeadLetters(tx, options.type, batchSize),
    (n) => n,
  ))
    purged += deleted;
  return purged;
}
