/**
 * Wakes workers in this process as soon as a producer in this process commits new work, so local
 * pick-up never waits for a poll. Keyed by database path; shared through a global so that two
 * copies of this package in one process still talk to each other.
 */
type Listener = () => void;
/** Whether the worker behind a listener has taken all the queue had for it (it waits for work). */
type Waiting = () => boolean;

const REGISTRY_KEY = Symbol.for("@queue/core.localWakeup");
const shared = globalThis as Record<symbol, Map<string, Set<Listener>> | undefined>;
const registry: Map<string, Set<Listener>> = shared[REGISTRY_KEY] ?? new Map();
shared[REGISTRY_KEY] = registry;
// Kept apart from the listeners, so that copies of this package from before it existed still share those.
const WAITING_KEY = Symbol.for("@queue/core.localWaiting");
const sharedWaiting = globalThis as Record<symbol, Map<string, Map<Listener, Waiting>> | undefined>;
const waitingRegistry: Map<string, Map<Listener, Waiting>> = sharedWaiting[WAITING_KEY] ?? new Map();
sharedWaiting[WAITING_KEY] = waitingRegistry;

/**
 * Calls `listener` whenever `notifyLocalWorkers(path)` is called; returns the unsubscribe function.
 * `waiting`, if given, tells producers in this process whether this worker has taken everything the
 * queue had for it (see `localWorkerWaiting`).
 */
export function onLocalWork(path: string, listener: Listener, waiting?: Waiting): () => void {
  let set = registry.get(path);
  if (set === undefined) {
    set = new Set();
    registry.set(path, set);
  }
  set.add(listener);
  if (waiting !== undefined) {
    let reports = waitingRegistry.get(path);
    if (reports === undefined) {
      reports = new Map();
      waitingRegistry.set(path, reports);
    }
    reports.set(listener, waiting);
  }
  return () => {
    set.delete(listener);
    if (set.size === 0) registry.delete(path);
    const reports = waitingRegistry.get(path);
    if (reports?.delete(listener) === true && reports.size === 0) waitingRegistry.delete(path);
  };
}

/** How many listeners (workers in this process) wait for work on `path`. */
export function localWorkerCount(path: string): number {
  return registry.get(path)?.size ?? 0;
}

/**
 * True if a worker in this process on `path` has taken everything the queue had for it, so new work
 * is wanted at once; false if every such worker still has a backlog to claim (or there is none). A
 * producer writes in large batches while a worker waits, and in short ones that let the worker's
 * handlers and claims run between them while it is busy.
 */
export function localWorkerWaiting(path: string): boolean {
  const reports = waitingRegistry.get(path);
  if (reports === undefined) return false;
  for (const waiting of reports.values()) {
    try {
      if (waiting() === true) return true;
    } catch {
      // A failing report counts as not waiting.
    }
  }
  return false;
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
