import { type ArchivedTaskRow, AtomicFileWriter, asStore, type QueueDatabase, type QueueStore } from "@queue/core";
import { betweenBatches, inBatches } from "./batches.js";

/** One archived task as an NDJSON record: the task's columns as the API names them, logs parsed. */
function archivedRecord(row: ArchivedTaskRow): Record<string, unknown> {
  const parse = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown));
  return {
    id: row.id,
    type: row.type,
    priority: row.priority,
    payload: parse(row.payload),
    status: row.status,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAfter: new Date(row.run_after).toISOString(),
    idempotencyKey: row.idempotency_key,
    timeoutMs: row.timeout_ms,
    requiredCapabilities: parse(row.required_capabilities) ?? [],
    error: parse(row.error),
    result: parse(row.result),
    progress: row.progress,
    createdAt: new Date(row.created_at).toISOString(),
    startedAt: row.started_at === null ? null : new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at === null ? null : new Date(row.finished_at).toISOString(),
    archivedAt: new Date(row.archived_at).toISOString(),
    logs: parse(row.logs) ?? [],
  };
}

/**
 * Writes the whole archive table to an NDJSON file (one task per line); returns how many. The file
 * appears under its name only once it is complete and on disk: a failure (a full disk) leaves a
 * file already there as it was.
 */
export async function exportArchive(source: QueueStore | QueueDatabase, file: string, batchSize = 1_000): Promise<number> {
  const store = asStore(source);
  const writer = new AtomicFileWriter(file);
  let written = 0;
  let afterId = 0;
  try {
    for (;;) {
      const rows = await store.archivedTasks(afterId, batchSize);
      if (rows.length === 0) break;
      writer.write(rows.map((row) => `${JSON.stringify(archivedRecord(row))}\n`).join(""));
      written += rows.length;
      afterId = rows.at(-1)?.id ?? afterId;
      await betweenBatches();
    }
    writer.commit();
  } catch (error) {
    writer.abort();
    throw error;
  }
  return written;
}

/**
 * Moves archived tasks (all, or the given ids) back into the tasks table with their ids and final
 * statuses. A task whose id is in use again stays in the archive and is counted as remaining.
 */
export async function restoreFromArchive(
  source: QueueStore | QueueDatabase,
  options: { readonly ids?: readonly number[]; readonly batchSize?: number } = {},
): Promise<{ restored: number[]; remainingInArchive: number }> {
  const store = asStore(source);
  const batchSize = options.batchSize ?? 500;
  const restored: number[] = [];
  for await (const ids of inBatches(
    batchSize,
    () => store.restoreArchivedBatch(options.ids, batchSize),
    (ids) => ids.length,
  ))
    restored.push(...ids);
  return { restored, remainingInArchive: await store.countArchived() };
}
