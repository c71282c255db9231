/**
 * Wakes workers in this process as soon as a producer in this process commits new work, so local
 * pick-up never waits for a poll. Keyed by database path; shared through a global so that two
 * copies of this package in one process still talk to each other.
 */
type Listener = () => void;

const REGISTRY_KEY = Symbol.for("@queue/core.localWakeup");
const shared = globalThis as Record<symbol, Map<string, Set<Listener>> | undefined>;
const registry: Map<string, Set<Listener>> = shared[REGISTRY_KEY] ?? new Map();
shared[REGISTRY_KEY] = registry;

/** Calls `listener` whenever `notifyLocalWorkers(path)` is called; returns the unsubscribe function. */
export function onLocalWork(path: string, listener: Listener): () => void {
  let set = registry.get(path);
  if (set === undefined) {
    set = new Set();
    registry.set(path, set);
  }
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) registry.delete(path);
  };
}

/** How many listeners (workers in this process) wait for work on `path`. */
export function localWorkerCount(path: string): number {
  return registry.get(path)?.size ?? 0;
}

/** Calls every listener for `path`; one that throws is reported asynchronously and cannot affect the caller. */
export function notifyLocalWorkers(path: string): void {
  const set = registry.get(path);
  if (set === undefined) return;
  for (const listener of [...set]) {
    try {
      listener();
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
