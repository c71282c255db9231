export { GROUP_COMMIT_BATCH, groupCommitBatchSize, QueueClient, type QueueClientOptions } from "./client.js";
export { type EnqueueInTransactionLimits, enqueueInTransaction } from "./enqueue-in-transaction.js";
export { GroupCommitter, type Settled } from "./group-commit.js";
export { CLIENT_THREAD_OPS, type InsertedRows, insertTaskRows } from "./insert-rows.js";
export type {
  EnqueueItem,
  EnqueueOptions,
  EnqueueResult,
  ListOptions,
  TaskPage,
  TaskPayloads,
  TaskTypeName,
  WaitOptions,
} from "./types.js";
export { validateTaskType } from "./validate.js";
