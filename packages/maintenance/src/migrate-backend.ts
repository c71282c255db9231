// Moving a queue from one store to another (SQLite to PostgreSQL, or back): every task as it is
// (any status, attempts, lease, result, times, id), its log lines, the archive and the pauses, in
// batches of short transactions, then verified by counts and checksums read from both sides.
import { createHash } from "node:crypto";
import {
  ARCHIVED_TASK_FIELDS,
  type ArchivedTaskRow,
  QueueError,
  type QueueStore,
  redactLocation,
  TASK_LOG_ROW_FIELDS,
  TASK_ROW_FIELDS,
  TASK_STATUSES,
  type TaskLogRow,
  type TaskRow,
  type TaskStatus,
} from "@queue/core";

export interface MigrateBackendOptions {
  /** Rows per read and per write transaction. Default 1000. */
  readonly batchSize?: number;
  /**
   * Copy even while tasks are leased by workers: their leases are copied as they are and expire on
   * the target, where the tasks are then claimed again. Default false (refused).
   */
  readonly force?: boolean;
  /** Called after each batch with what has been copied so far. */
  readonly onProgress?: (copied: MigratedCounts) => void;
}

export interface MigratedCounts {
  readonly tasks: number;
  readonly logs: number;
  readonly archived: number;
}

/** What was copied, and the checksums both stores gave for it. */
export interface MigrateBackendReport extends MigratedCounts {
  /** Where from and where to (URLs without their passwords). */
  readonly from: string;
  readonly to: string;
  readonly byStatus: Readonly<Record<TaskStatus, number>>;
  /** The paused type keys copied ("*" is the whole queue). */
  readonly paused: readonly string[];
  /** Leased tasks copied (only with `force`). */
  readonly leased: number;
  /** SHA-256 of every task, log line and archived task, in id order, as both stores hold them. */
  readonly checksums: { readonly tasks: string; readonly logs: string; readonly archived: string };
  readonly seconds: number;
}

/** A page reader: rows after an id, in id order. */
type Pages<Row extends { id: number }> = (afterId: number, limit: number) => Promise<Row[]>;

const taskPages =
  (store: QueueStore): Pages<TaskRow> =>
  (afterId, limit) =>
    store.listTasks({ limit, order: "oldest", afterId });
const logPages =
  (store: QueueStore): Pages<TaskLogRow> =>
  (afterId, limit) =>
    store.taskLogPage(afterId, limit);
const archivePages =
  (store: QueueStore): Pages<ArchivedTaskRow> =>
  (afterId, limit) =>
    store.archivedTasks(afterId, limit);

/** Reads every row, a page at a time, handing each page to `each`; resolves with how many rows there were. */
async function forEachPage<Row extends { id: number }>(pages: Pages<Row>, limit: number, each: (rows: Row[]) => Promise<void> | void) {
  let count = 0;
  let afterId = 0;
  for (;;) {
    const page = await pages(afterId, limit);
    if (page.length === 0) return count;
    await each(page);
    count += page.length;
    afterId = (page.at(-1) as Row).id;
  }
}

/** SHA-256 over the rows' fields, one JSON line per row in id order; with the row count. */
async function checksum<Row extends { id: number }>(pages: Pages<Row>, fields: readonly (keyof Row)[], limit: number) {
  const hash = createHash("sha256");
  const count = await forEachPage(pages, limit, (rows) => {
    for (const row of rows) hash.update(`${JSON.stringify(fields.map((field) => row[field] ?? null))}\n`);
  });
  return { count, digest: hash.digest("hex") };
}

/**
 * Copies the queue in `from` into `to`, which must hold no task, log line or archived task yet.
 * Tasks keep their ids, statuses, attempts, results and times (the target's ids go on past them),
 * then log lines, the archive and the pauses are copied; each batch is one transaction on the
 * target. Finally both stores are read again and compared, count by count and checksum by
 * checksum. Refused (INVALID_STATE) while tasks are leased by workers unless `force`, or when the
 * target is not empty; a difference after copying (the source changed meanwhile) is INVALID_DATA.
 * The source is never written to.
 */
export async function migrateBackend(from: QueueStore, to: QueueStore, options: MigrateBackendOptions = {}): Promise<MigrateBackendReport> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 1_000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) {
    throw new QueueError("INVALID_ARGUMENT", `batchSize must be an integer from 1 to 100000; got ${String(batchSize)}.`);
  }
  const source = redactLocation(from.location);
  const target = redactLocation(to.location);
  const byStatus = await from.countTasksByStatus();
  if (byStatus.leased > 0 && options.force !== true) {
    throw new QueueError(
      "INVALID_STATE",
      `${byStatus.leased} task${byStatus.leased === 1 ? " is" : "s are"} leased by workers at ${source}: stop the workers (or pause the queue and let them finish) before moving it, or force the copy (their leases are copied and expire on the target, where the tasks run again).`,
      { details: { leased: byStatus.leased } },
    );
  }
  await assertEmpty(to, target);

  const copied = { tasks: 0, logs: 0, archived: 0 };
  const progress = () => options.onProgress?.({ ...copied });
  await forEachPage(taskPages(from), batchSize, async (tasks) => {
    await to.importRows({ tasks });
    copied.tasks += tasks.length;
    progress();
  });
  await forEachPage(logPages(from), batchSize, async (logs) => {
    await to.importRows({ logs });
    copied.logs += logs.length;
    progress();
  });
  await forEachPage(archivePages(from), batchSize, async (archived) => {
    await to.importRows({ archived });
    copied.archived += archived.length;
    progress();
  });
  const paused = (await from.pausedTypes()).sort();
  for (const type of paused) await to.pauseType(type);

  const checksums = await verify(from, to, batchSize, source, target);
  const finalCounts = await to.countTasksByStatus();
  return {
    from: source,
    to: target,
    ...copied,
    byStatus: finalCounts,
    paused,
    leased: finalCounts.leased,
    checksums,
    seconds: (Date.now() - started) / 1000,
  };
}

async function assertEmpty(store: QueueStore, shown: string): Promise<void> {
  const counts = await store.countTasksByStatus();
  const tasks = TASK_STATUSES.reduce((sum, status) => sum + counts[status], 0);
  const logs = (await store.taskLogPage(0, 1)).length;
  const archived = await store.countArchived();
  if (tasks + logs + archived === 0) return;
  throw new QueueError(
    "INVALID_STATE",
    `${shown} already holds ${tasks} task(s)${archived > 0 ? ` and ${archived} archived` : ""}${logs > 0 ? " and log lines" : ""}: copy into an empty queue (a new file, or a new schema with ?schema=NAME), so that no id is used twice.`,
    { details: { tasks, archived } },
  );
}

/** Both stores read again, in full: the same counts by status, pauses, and checksums of every row. */
async function verify(from: QueueStore, to: QueueStore, batchSize: number, source: string, target: string) {
  const differences: string[] = [];
  const [fromCounts, toCounts] = await Promise.all([from.countTasksByStatus(), to.countTasksByStatus()]);
  for (const status of TASK_STATUSES) {
    if (fromCounts[status] !== toCounts[status]) differences.push(`${status}: ${fromCounts[status]} here, ${toCounts[status]} there`);
  }
  const [fromPaused, toPaused] = await Promise.all([from.pausedTypes(), to.pausedTypes()]);
  if (JSON.stringify(fromPaused.sort()) !== JSON.stringify(toPaused.sort())) differences.push("paused types differ");
  const compare = async <Row extends { id: number }>(
    what: string,
    pages: (store: QueueStore) => Pages<Row>,
    fields: readonly (keyof Row)[],
  ): Promise<string> => {
    const [mine, theirs] = await Promise.all([checksum(pages(from), fields, batchSize), checksum(pages(to), fields, batchSize)]);
    if (mine.count !== theirs.count) differences.push(`${what}: ${mine.count} here, ${theirs.count} there`);
    else if (mine.digest !== theirs.digest) differences.push(`${what}: same count (${mine.count}), different checksums`);
    return mine.digest;
  };
  const checksums = {
    tasks: await compare("tasks", taskPages, TASK_ROW_FIELDS),
    logs: await compare("log lines", logPages, TASK_LOG_ROW_FIELDS),
    archived: await compare("archived tasks", archivePages, ARCHIVED_TASK_FIELDS),
  };
  if (differences.length > 0) {
    throw new QueueError(
      "INVALID_DATA",
      `The copy at ${target} does not match ${source} (${differences.join("; ")}). The source changed while it was copied, or a row did not survive the trip: stop producers and workers, empty the target, and run again.`,
      { details: { differences } },
    );
  }
  return checksums;
}
