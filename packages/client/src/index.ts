export { GROUP_COMMIT_BATCH, groupCommitBatchSize, QueueClient, type QueueClientOptions } from "./client.js";
export { type EnqueueInTransactionLimits, enqueueInTransaction } from "./enqueue-in-transaction.js";
export { GroupCommitter, type Settled } from "./group-commit.js";
export { CLIENT_THREAD_OPS, type InsertedRows, insertTaskRows } from "./insert-rows.js";
export type {
  AnyTypedTask,
  EnqueueItem,
  EnqueueOptions,
  EnqueueResult,
  ListOptions,
  ResultOf,
  TaskPage,
  TaskPayloads,
  TaskReference,
  TaskResults,
  TaskTypeName,
  TypedTask,
  WaitOptions,
} from "./types.js";
export { DEFAULT_ENQUEUE_LIMITS, type EnqueueLimits, toNewTaskRow, validateTaskType } from "./validate.js";
