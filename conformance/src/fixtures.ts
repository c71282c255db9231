import type { NewTaskRow, QueueStore } from "@queue/core";
import { afterEach } from "vitest";
import type { ConformanceBackend } from "./backend.js";

/**
 * Fresh stores for each test of a suite, closed (and destroyed) after it: `fresh()` makes a store
 * on new storage, `peer(store)` a second connection to the same storage.
 */
export function storesFor(backend: ConformanceBackend): {
  fresh(): Promise<QueueStore>;
  peer(store: QueueStore): Promise<QueueStore>;
} {
  const opened: QueueStore[] = [];
  const created: QueueStore[] = [];
  afterEach(async () => {
    for (const store of opened.splice(0).reverse()) await store.close();
    for (const store of created.splice(0)) await backend.destroy?.(store);
  });
  return {
    async fresh() {
      const store = await backend.createStore();
      opened.push(store);
      created.push(store);
      return store;
    },
    async peer(store) {
      const other = await backend.openPeer(store);
      opened.push(other);
      return other;
    },
  };
}

/** A row as a client would send it, after validation. */
export function newRow(store: QueueStore, overrides: Partial<NewTaskRow> = {}): NewTaskRow {
  const now = store.clock.now();
  return {
    type: "work",
    priority: 0,
    payload: "{}",
    maxAttempts: 3,
    runAfter: now,
    idempotencyKey: null,
    timeoutMs: null,
    requiredCapabilities: null,
    traceParent: null,
    ...overrides,
  };
}
