import { asStore, type QueueDatabase, type QueueStore } from "@queue/core";
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
export async function deadLetterSummary(
  source: QueueStore | QueueDatabase,
  options: { readonly type?: string } = {},
): Promise<DeadLetterGroup[]> {
  return (await asStore(source).deadLetterGroups(options.type)).map((row) => ({
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
  source: QueueStore | QueueDatabase,
  options: { readonly type?: string; readonly batchSize?: number } = {},
): Promise<number> {
  const store = asStore(source);
  const batchSize = options.batchSize ?? 500;
  let retried = 0;
  for await (const ids of inBatches(
    batchSize,
    () => store.retryDeadLetterBatch(options.type, batchSize),
    (ids) => ids.length,
  ))
    retried += ids.length;
  return retried;
}

/** Deletes every dead-lettered task (of one type, or all), with its logs. */
export async function purgeAllDeadLetters(
  source: QueueStore | QueueDatabase,
  options: { readonly type?: string; readonly batchSize?: number } = {},
): Promise<number> {
  const store = asStore(source);
  const batchSize = options.batchSize ?? 500;
  let purged = 0;
  for await (const deleted of inBatches(
    batchSize,
    () => store.purgeDeadLetterBatch(options.type, batchSize),
    (n) => n,
  ))
    purged += deleted;
  return purged;
}
