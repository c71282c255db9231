// What every store does, operation by operation, through the port alone.
import { EVERY_TYPE, isQueueError, type QueueStore, TASK_STATUSES } from "@queue/core";
import { describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { newRow, storesFor } from "./fixtures.js";

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to be refused");
    },
    (error: unknown) => error,
  );
}

async function insertOne(store: QueueStore, overrides: Parameters<typeof newRow>[1] = {}): Promise<number> {
  const { rows } = await store.insertTasks([newRow(store, overrides)]);
  const [id] = rows;
  if (typeof id !== "number") throw new Error("expected a new task");
  return id;
}

export function describeStoreConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);

  describe(`${backend.name} store: insertTasks`, () => {
    it("inserts a batch in order with increasing ids, and returns the transaction's time", async () => {
      const store = await stores.fresh();
      const before = store.clock.now();
      const { now, rows } = await store.insertTasks([0, 1, 2].map((n) => newRow(store, { payload: JSON.stringify({ n }) })));
      expect(now).toBeGreaterThanOrEqual(before);
      expect(rows.every((row) => typeof row === "number")).toBe(true);
      const ids = rows as number[];
      expect(ids[1]).toBeGreaterThan(ids[0] as number);
      expect(ids[2]).toBeGreaterThan(ids[1] as number);
      const third = await store.getTask(ids[2] as number);
      expect(third).toMatchObject({ id: ids[2], type: "work", status: "queued", payload: '{"n":2}', attempts: 0, max_attempts: 3 });
    });

    it("answers a taken idempotency key with the stored row, in another batch and within the same batch", async () => {
      const store = await stores.fresh();
      const first = await insertOne(store, { idempotencyKey: "k", payload: '{"v":1}' });
      const { rows } = await store.insertTasks([
        newRow(store, { idempotencyKey: "k", payload: '{"v":2}' }),
        newRow(store, { idempotencyKey: "other" }),
        newRow(store, { idempotencyKey: "other", payload: '{"v":3}' }),
      ]);
      expect(rows[0]).toMatchObject({ id: first, payload: '{"v":1}', idempotency_key: "k" });
      expect(typeof rows[1]).toBe("number");
      expect(rows[2]).toMatchObject({ id: rows[1], payload: "{}" });
      expect((await store.countTasksByStatus()).queued).toBe(2);
    });

    it("finds tasks by their idempotency keys, leaving out keys no task has", async () => {
      const store = await stores.fresh();
      const first = await insertOne(store, { idempotencyKey: "a" });
      const second = await insertOne(store, { idempotencyKey: "b" });
      await insertOne(store);
      const found = await store.tasksByIdempotencyKeys(["b", "missing", "a"]);
      expect(found.map((row) => [row.id, row.idempotency_key]).sort()).toEqual([
        [first, "a"],
        [second, "b"],
      ]);
      expect(await store.tasksByIdempotencyKeys([])).toEqual([]);
    });

    it("keeps one task per key when two connections insert it at once", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, n) => (n % 2 === 0 ? store : other).insertTasks([newRow(store, { idempotencyKey: "race" })])),
      );
      const ids = new Set(results.map(({ rows: [row] }) => (typeof row === "number" ? row : row?.id)));
      expect(ids.size).toBe(1);
      expect((await store.countTasksByStatus()).queued).toBe(1);
    });
  });

  describe(`${backend.name} store: reads`, () => {
    it("getTask of an unknown id is undefined; writes by a peer are seen", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      expect(await store.getTask(12345)).toBeUndefined();
      const id = await insertOne(other);
      expect((await store.getTask(id))?.status).toBe("queued");
    });

    it("lists newest or oldest first, pages after an id, and filters by status and type", async () => {
      const store = await stores.fresh();
      const ids: number[] = [];
      for (const type of ["a", "b", "a", "b", "a"]) ids.push(await insertOne(store, { type }));
      await store.cancelTask(ids[0] as number);
      const newest = await store.listTasks({ limit: 10, order: "newest" });
      expect(newest.map((row) => row.id)).toEqual([...ids].reverse());
      const oldest = await store.listTasks({ limit: 2, order: "oldest" });
      expect(oldest.map((row) => row.id)).toEqual(ids.slice(0, 2));
      const next = await store.listTasks({ limit: 2, order: "oldest", afterId: oldest[1]?.id });
      expect(next.map((row) => row.id)).toEqual(ids.slice(2, 4));
      const queuedA = await store.listTasks({ limit: 10, order: "newest", status: "queued", type: "a" });
      expect(queuedA.map((row) => row.id)).toEqual([ids[4], ids[2]]);
      expect((await store.listTasks({ limit: 10, order: "newest", status: "cancelled" })).map((row) => row.id)).toEqual([ids[0]]);
      const error = await rejection(store.listTasks({ limit: 10, order: "newest", status: "sleeping" as never }));
      expect(isQueueError(error, "INVALID_ARGUMENT")).toBe(true);
    });

    it("counts every status, with 0 for the empty ones", async () => {
      const store = await stores.fresh();
      await insertOne(store);
      const counts = await store.countTasksByStatus();
      expect(Object.keys(counts).sort()).toEqual([...TASK_STATUSES].sort());
      expect(counts).toMatchObject({ queued: 1, leased: 0, completed: 0, dead_letter: 0, cancelled: 0 });
    });

    it("a new task has no log lines", async () => {
      const store = await stores.fresh();
      expect(await store.taskLogs(await insertOne(store))).toEqual([]);
    });
  });

  describe(`${backend.name} store: cancel and retry`, () => {
    it("cancels a queued task at once; cancelling it again returns it unchanged", async () => {
      const store = await stores.fresh();
      const id = await insertOne(store);
      const cancelled = await store.cancelTask(id);
      expect(cancelled).toMatchObject({ id, status: "cancelled" });
      expect(cancelled.finished_at).not.toBeNull();
      expect(await store.cancelTask(id)).toEqual(cancelled);
    });

    it("refuses an unknown id with NOT_FOUND, and a retry of a task that is not dead-lettered with INVALID_STATE", async () => {
      const store = await stores.fresh();
      expect(isQueueError(await rejection(store.cancelTask(999)), "NOT_FOUND")).toBe(true);
      expect(isQueueError(await rejection(store.retryDeadLetterTask(999)), "NOT_FOUND")).toBe(true);
      const id = await insertOne(store);
      const error = await rejection(store.retryDeadLetterTask(id));
      expect(isQueueError(error, "INVALID_STATE")).toBe(true);
      expect((error as Error).message).toMatch(/is queued; only dead-lettered tasks can be retried/);
    });
  });

  describe(`${backend.name} store: pauses`, () => {
    it("pauses and resumes one type or every type, seen by a peer, each at most once", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      await store.pauseType("a");
      await store.pauseType("a");
      await store.pauseType(EVERY_TYPE);
      expect((await other.pausedTypes()).sort()).toEqual([EVERY_TYPE, "a"].sort());
      await other.resumeType(EVERY_TYPE);
      expect(await store.pausedTypes()).toEqual(["a"]);
      await store.resumeType("a");
      await store.resumeType("never-paused");
      expect(await store.pausedTypes()).toEqual([]);
    });
  });
}
