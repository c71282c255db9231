import {
  asStore,
  DurableAppendFile,
  type FinishedStatus,
  type FinishedTaskRecord,
  isQueueError,
  type QueueDatabase,
  QueueError,
  type QueueStore,
  taskFromRow,
  taskLogFromRow,
} from "@queue/core";
import { inBatches } from "./batches.js";

export interface RetentionPolicy {
  readonly completedOlderThanMs?: number;
  readonly deadLetterOlderThanMs?: number;
  readonly cancelledOlderThanMs?: number;
  readonly logsOlderThanMs?: number;
  /** Move removed tasks (with their logs) into the archive table instead of only deleting them. */
  readonly archive?: boolean;
  /**
   * Also append removed tasks, with their logs, to this NDJSON file: each batch is written in full,
   * checked and flushed to disk before it is deleted; a batch that cannot be written (a full disk)
   * is not deleted, and the cleanup stops with DISK_FULL.
   */
  readonly archiveFile?: string;
  /** Rows per transaction. Default 500: each batch holds the write lock for a few milliseconds. */
  readonly batchSize?: number;
  /** Count what would be removed without changing anything. */
  readonly dryRun?: boolean;
}

export interface RetentionReport {
  readonly completed: number;
  readonly deadLetter: number;
  readonly cancelled: number;
  readonly logs: number;
  readonly archived: number;
  readonly batches: number;
  readonly dryRun: boolean;
}

const STATUS_OPTIONS: [FinishedStatus, keyof RetentionPolicy][] = [
  ["completed", "completedOlderThanMs"],
  ["dead_letter", "deadLetterOlderThanMs"],
  ["cancelled", "cancelledOlderThanMs"],
];

/** One NDJSON line: the task as the API shows it, plus its log lines. */
function ndjsonLine(record: FinishedTaskRecord): string {
  return `${JSON.stringify({ ...taskFromRow(record.task), logs: record.logs.map(taskLogFromRow) })}\n`;
}

/**
 * Removes finished tasks and old log lines by age, in batches of short transactions, so workers in
 * other processes keep claiming and completing throughout. A crash between batches leaves whole
 * batches done or not done; with `archiveFile`, a batch is on disk before it is deleted (a crash can
 * repeat a batch in the file, never lose one), and a failed write leaves the file as it was before
 * the batch (see DurableAppendFile).
 */
export async function cleanup(source: QueueStore | QueueDatabase, policy: RetentionPolicy): Promise<RetentionReport> {
  const store = asStore(source);
  const batchSize = policy.batchSize ?? 500;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new QueueError("INVALID_CONFIG", `cleanup: batchSize must be a positive integer; got ${batchSize}.`);
  for (const [, option] of STATUS_OPTIONS) {
    const value = policy[option];
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value < 0)) {
      throw new QueueError("INVALID_CONFIG", `cleanup: ${option} must be a number of milliseconds >= 0; got ${String(value)}.`);
    }
  }
  const dryRun = policy.dryRun ?? false;
  const counts = { completed: 0, dead_letter: 0, cancelled: 0 };
  let archived = 0;
  let logs = 0;
  let batches = 0;
  const file = policy.archiveFile === undefined || dryRun ? undefined : new DurableAppendFile(policy.archiveFile);
  try {
    for (const [status, option] of STATUS_OPTIONS) {
      const olderThan = policy[option] as number | undefined;
      if (olderThan === undefined) continue;
      const before = store.clock.now() - olderThan;
      if (dryRun) {
        counts[status] = await store.countFinishedBefore(status, before);
        continue;
      }
      const beforeDelete =
        file === undefined ? undefined : (records: readonly FinishedTaskRecord[]) => file.append(records.map(ndjsonLine).join(""));
      const removals = inBatches(
        batchSize,
        () =>
          store.removeFinishedBatch({
            status,
            before,
            limit: batchSize,
            archive: policy.archive ?? false,
            ...(beforeDelete === undefined ? {} : { beforeDelete }),
          }),
        (removed) => removed.deleted,
      );
      for await (const removed of removals) {
        batches += 1;
        counts[status] += removed.deleted;
        archived += removed.archived;
      }
    }
    if (policy.logsOlderThanMs !== undefined) {
      const before = store.clock.now() - policy.logsOlderThanMs;
      if (dryRun) logs = await store.countTaskLogsBefore(before);
      else
        for await (const deleted of inBatches(
          batchSize,
          () => store.deleteTaskLogsBefore(before, batchSize),
          (n) => n,
        )) {
          batches += 1;
          logs += deleted;
        }
    }
  } catch (error) {
    if (file !== undefined && isQueueError(error) && error.path === file.path) throw archiveStopped(error, counts, archived);
    throw error;
  } finally {
    file?.close();
  }
  return { completed: counts.completed, deadLetter: counts.dead_letter, cancelled: counts.cancelled, logs, archived, batches, dryRun };
}

/** The archive file's error, with what the cleanup had done before it: nothing of the failed batch is deleted. */
function archiveStopped(error: QueueError, counts: Record<FinishedStatus, number>, archived: number): QueueError {
  const removed = counts.completed + counts.dead_letter + counts.cancelled;
  return new QueueError(
    error.code,
    `Cleanup stopped: ${error.message} The batch that could not be written, and every task after it, is still in the database; ${removed} task(s) were written to the archive file and removed before it.`,
    { cause: error, path: error.path, details: { removed, archived, ...counts } },
  );
}
