import type { QueueDatabase } from "@queue/core";

/** Yields to the event loop (and so to other processes waiting for the write lock) between batches. */
export function betweenBatches(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `work` in its own short transaction again and again, yielding each committed result, until
 * a batch handles fewer than `batchSize` rows. Accumulate from the yielded results, never inside
 * `work`: a transaction retried on lock contention runs its callback again.
 */
export async function* inBatches<T>(
  db: QueueDatabase,
  batchSize: number,
  work: (tx: QueueDatabase) => T,
  rowsOf: (result: T) => number,
): AsyncGenerator<T> {
  for (;;) {
    const result = await db.transaction(work);
    yield result;
    if (rowsOf(result) < batchSize) return;
    await betweenBatches();
  }
}
