/**
 * Wakes workers in this process as soon as a producer in this process commits new work, so local
 * pick-up never waits for a poll. Keyed by database path; shared through a global so that two
 * copies of this package in one process still talk to each other.
 */
type Listener = () => void;

const REGISTRY_KEY = Symbol.for("@queue/core.localWakeup");
const registry: Map<string, Set<Listener>> = ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] ??= new Map()) as Map<
  string,
  Set<Listener>
>;

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

export function notifyLocalWorkers(path: string): void {
  const set = registry.get(path);
  if (set === undefined) return;
  for (const listener of [...set]) listener();
}
