import type { Lease, LeaseClaim, NewTaskRow, QueueStore, TaskRow, TickRequest, TickResult } from "@queue/core";
import { fifo, type SchedulingStrategy } from "@queue/scheduling";
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

/** Inserts one task per set of overrides, in order; resolves with their new ids. */
export async function insertIds(store: QueueStore, ...overrides: Partial<NewTaskRow>[]): Promise<number[]> {
  const { rows } = await store.insertTasks(overrides.map((row) => newRow(store, row)));
  return rows.map((row) => {
    if (typeof row !== "number") throw new Error("expected a new task");
    return row;
  });
}

/** The tasks with these ids, as stored now, in the same order (each must exist). */
export async function taskRows(store: QueueStore, ids: readonly number[]): Promise<TaskRow[]> {
  return Promise.all(
    ids.map(async (id) => {
      const row = await store.getTask(id);
      if (row === undefined) throw new Error(`no task ${id}`);
      return row;
    }),
  );
}

/**
 * The claim order a strategy gives the store. Read through the strategy object, never written out,
 * so that the suite follows the strategies' own definition of their order; the one place that names
 * the strategy's order property.
 */
export function claimOrder(strategy: SchedulingStrategy): LeaseClaim["order"] {
  return strategy.order;
}

/** A tick that records nothing and claims: by default up to 10 tasks of any type, oldest first, for worker w1 without capabilities, leased for a minute. */
export function claimOnly(claim: Partial<LeaseClaim> = {}): TickRequest {
  return {
    completions: [],
    failures: [],
    claim: { workerId: "w1", order: claimOrder(fifo), leaseMs: 60_000, limit: 10, capabilities: [], ...claim },
  };
}

/** The lease a tick's claimed task is held under. */
export function leaseOf(tick: TickResult, taskId: number): Lease {
  if (tick.lease === undefined) throw new Error("the tick claimed nothing");
  if (!tick.claimed.some((task) => task.id === taskId)) throw new Error(`task ${taskId} was not claimed`);
  return { taskId, token: tick.lease.token, workerId: tick.lease.workerId };
}

/** The ids a tick claimed, ascending. */
export function claimedIds(tick: TickResult): number[] {
  return tick.claimed.map((task) => task.id).sort((a, b) => a - b);
}

/** Resolves once the store's clock is past `time` (a lease's expiry, a delayed task's run_after). */
export async function untilPast(store: QueueStore, time: number): Promise<void> {
  while (store.clock.now() <= time) await sleep(Math.max(1, time - store.clock.now() + 1));
}

/** Resolves when `predicate` holds, checking every few milliseconds; fails after `timeoutMs` (generous: a loaded machine is slow). */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
