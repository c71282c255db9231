// What a QueueClient does on every backend, given only a store.
import { QueueClient } from "@queue/client";
import { isQueueError } from "@queue/core";
import { describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { storesFor } from "./fixtures.js";

export function describeClientConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);
  const client = async () => new QueueClient({ store: await stores.fresh() });

  describe(`${backend.name}: QueueClient`, () => {
    it("stores a payload and its options exactly, and reads the task back", async () => {
      const queue = await client();
      const payload = { text: "ünïcödé ✓", nested: { list: [1, 2.5, null, true], empty: {} }, big: 2 ** 53 - 1 };
      const { task, created } = await queue.enqueue("send", payload, { priority: 3, maxAttempts: 7, timeoutMs: 900 });
      expect(created).toBe(true);
      const stored = await queue.get(task.id);
      expect(stored).toMatchObject({ id: task.id, type: "send", payload, priority: 3, maxAttempts: 7, timeoutMs: 900, status: "queued" });
      expect(stored?.createdAt.getTime()).toBe(task.createdAt.getTime());
    });

    it("group-commits concurrent enqueues, and one idempotency key yields one task however many callers race", async () => {
      const queue = await client();
      const results = await Promise.all(Array.from({ length: 20 }, () => queue.enqueue("once", { n: 1 }, { idempotencyKey: "same" })));
      expect(new Set(results.map((result) => result.task.id)).size).toBe(1);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      const many = await Promise.all(Array.from({ length: 50 }, (_, n) => queue.enqueue("many", { n })));
      expect(new Set(many.map((result) => result.task.id)).size).toBe(50);
      expect((await queue.counts()).queued).toBe(51);
    });

    it("enqueueMany writes all or, on one invalid item, nothing", async () => {
      const queue = await client();
      const error = await queue
        .enqueueMany([
          { type: "ok", payload: {} },
          { type: "bad", payload: { n: 10n } as never },
        ])
        .catch((thrown: unknown) => thrown);
      expect(isQueueError(error, "INVALID_PAYLOAD")).toBe(true);
      expect((await queue.counts()).queued).toBe(0);
      expect(await queue.enqueueMany([1, 2, 3].map((n) => ({ type: "ok", payload: { n } })))).toHaveLength(3);
      expect((await queue.counts()).queued).toBe(3);
    });

    it("delays a task: runAfter is the time of the enqueue call plus the delay", async () => {
      const queue = await client();
      const before = queue.store.clock.now();
      const { task } = await queue.enqueue("later", {}, { delayMs: 60_000 });
      const after = queue.store.clock.now();
      expect(task.runAfter.getTime()).toBeGreaterThanOrEqual(before + 60_000);
      expect(task.runAfter.getTime()).toBeLessThanOrEqual(after + 60_000);
      expect((await queue.get(task.id))?.runAfter.getTime()).toBe(task.runAfter.getTime());
    });

    it("pages through a list with its cursor", async () => {
      const queue = await client();
      await queue.enqueueMany(Array.from({ length: 5 }, (_, n) => ({ type: "page", payload: { n } })));
      const first = await queue.list({ limit: 2, order: "oldest" });
      expect(first.tasks.map((task) => (task.payload as { n: number }).n)).toEqual([0, 1]);
      const second = await queue.list({ limit: 2, order: "oldest", cursor: first.nextCursor as string });
      expect(second.tasks.map((task) => (task.payload as { n: number }).n)).toEqual([2, 3]);
      const last = await queue.list({ limit: 2, order: "oldest", cursor: second.nextCursor as string });
      expect(last).toEqual({ tasks: [expect.objectContaining({ payload: { n: 4 } })] });
    });

    it("cancel ends a queued task; waitFor resolves with it, and times out on one that does not finish", async () => {
      const queue = await client();
      const { task } = await queue.enqueue("stay", {});
      const { task: other } = await queue.enqueue("stay", {});
      const waiting = queue.waitFor(task.id, { maxPollIntervalMs: 10 });
      await queue.cancel(task.id);
      expect((await waiting).status).toBe("cancelled");
      const timedOut = await queue.waitFor(other.id, { timeoutMs: 50 }).catch((error: unknown) => error);
      expect(isQueueError(timedOut, "TIMEOUT")).toBe(true);
      const missing = await queue.waitFor(99_999).catch((error: unknown) => error);
      expect(isQueueError(missing, "NOT_FOUND")).toBe(true);
    });

    it("pauses and resumes through the store", async () => {
      const queue = await client();
      await queue.pause("send");
      await queue.pause();
      expect((await queue.paused()).sort()).toEqual(["*", "send"]);
      await queue.resume();
      await queue.resume("send");
      expect(await queue.paused()).toEqual([]);
    });
  });
}
