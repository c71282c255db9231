/** Yields to the event loop (and so to other processes waiting for the write lock) between batches. */
export function betweenBatches(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `batch` (one short transaction of the store's) again and again, yielding each result, until
 * a batch handles fewer than `batchSize` rows.
 */
export async function* inBatches<T>(batchSize: number, batch: () => Promise<T>, rowsOf: (result: T) => number): AsyncGenerator<T> {
  for (;;) {
    const result = await batch();
    yield result;
    if (rowsOf(result) < batchSize) return;
    await betweenBatches();
  }
}
