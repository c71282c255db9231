/** Yields to the event loop (and so to other processes waiting for the write lock) between batches. */
export function betweenBatches(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
