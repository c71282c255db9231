// A Worker and a QueueClient end to end, given only a store: tasks run, retry, dead-letter, time
// out and are cancelled, and what a handler reports is seen through another connection.
import { QueueClient } from "@queue/client";
import type { QueueStore } from "@queue/core";
import { type TaskHandlers, Worker, type WorkerOptions } from "@queue/worker-engine";
import { afterEach, describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { eventually, storesFor } from "./fixtures.js";

/** Resolves when the handler's signal aborts, rejecting with its reason, as a well-behaved handler stops. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

export function describeWorkerConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);
  const started: Worker[] = [];
  // Registered after storesFor's: afterEach hooks run in reverse, so workers stop before their stores close.
  afterEach(async () => {
    for (const worker of started.splice(0)) await worker.stop({ graceful: false });
  });

  /** A worker on `store` that polls and retries at once, stopped after the test. */
  function workerOn(store: QueueStore, handlers: TaskHandlers, options: Partial<WorkerOptions> = {}): Worker {
    const worker = new Worker({
      store,
      handlers,
      pollIntervalMs: 10,
      abortGraceMs: 1_000,
      backoff: { initialDelayMs: 0, jitter: 0 },
      ...options,
    });
    started.push(worker);
    return worker;
  }

  describe(`${backend.name}: Worker on the store`, () => {
    it("runs enqueued tasks to completion, their results read back through a peer", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const queue = new QueueClient({ store });
      const tasks = await queue.enqueueMany([1, 2, 3, 4, 5].map((n) => ({ type: "add", payload: { a: n, b: 10 } })));
      const add = (payload: unknown) => {
        const { a, b } = payload as { a: number; b: number };
        return { sum: a + b };
      };
      const worker = workerOn(store, { add }, { concurrency: 2 });
      expect(await worker.runUntilEmpty()).toMatchObject({ claimed: 5, completed: 5, failed: 0 });
      const done = await new QueueClient({ store: other }).get(tasks[2]?.task.id as number);
      expect(done).toMatchObject({ status: "completed", result: { sum: 13 }, attempts: 1, lockedBy: null });
      expect((await other.countTasksByStatus()).completed).toBe(5);
    });

    it("two workers on two connections run every task exactly once", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const queue = new QueueClient({ store });
      const tasks = await queue.enqueueMany(Array.from({ length: 60 }, (_, n) => ({ type: "once", payload: { n } })));
      const runs = new Map<number, number>();
      const handlers = {
        once: async (_payload: unknown, context: { task: { id: number } }) => {
          runs.set(context.task.id, (runs.get(context.task.id) ?? 0) + 1);
          await new Promise((resolve) => setImmediate(resolve));
        },
      };
      await Promise.all([
        workerOn(store, handlers, { concurrency: 4, workerId: "w-a" }).runUntilEmpty(),
        workerOn(other, handlers, { concurrency: 4, workerId: "w-b" }).runUntilEmpty(),
      ]);
      expect([...runs.keys()].sort((a, b) => a - b)).toEqual(tasks.map(({ task }) => task.id));
      expect([...runs.values()].every((count) => count === 1)).toBe(true);
      expect((await store.countTasksByStatus()).completed).toBe(60);
    });

    it("retries a failing handler, then dead-letters it after maxAttempts", async () => {
      const store = await stores.fresh();
      const queue = new QueueClient({ store });
      const { task: doomed } = await queue.enqueue("doomed", {}, { maxAttempts: 3 });
      const { task: flaky } = await queue.enqueue("flaky", {}, { maxAttempts: 3 });
      let doomedRuns = 0;
      let flakyRuns = 0;
      const worker = workerOn(store, {
        doomed: () => {
          doomedRuns += 1;
          throw new Error(`failure ${doomedRuns}`);
        },
        flaky: () => {
          flakyRuns += 1;
          if (flakyRuns === 1) throw new Error("once");
          return "recovered";
        },
      });
      await worker.runUntilEmpty();
      expect(doomedRuns).toBe(3);
      expect(await queue.get(doomed.id)).toMatchObject({ status: "dead_letter", attempts: 3, error: { message: "failure 3" } });
      expect(flakyRuns).toBe(2);
      expect(await queue.get(flaky.id)).toMatchObject({ status: "completed", attempts: 2, result: "recovered" });
    });

    it("aborts a handler at the task's timeout", async () => {
      const store = await stores.fresh();
      const queue = new QueueClient({ store });
      const { task } = await queue.enqueue("slow", {}, { timeoutMs: 50, maxAttempts: 1 });
      let signal: AbortSignal | undefined;
      const worker = workerOn(store, {
        slow: (_payload, context) => {
          signal = context.signal;
          return untilAborted(context.signal);
        },
      });
      await worker.runUntilEmpty();
      expect(signal?.aborted).toBe(true);
      expect(await queue.get(task.id)).toMatchObject({ status: "dead_letter", attempts: 1, error: { name: "TimeoutError" } });
    });

    it("cancels a running task: its signal aborts at the next heartbeat and it ends cancelled", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const queue = new QueueClient({ store });
      const { task } = await queue.enqueue("long", {});
      let signal: AbortSignal | undefined;
      const worker = workerOn(
        store,
        {
          long: (_payload, context) => {
            signal = context.signal;
            return untilAborted(context.signal);
          },
        },
        { heartbeatMs: 20, leaseMs: 5_000 },
      );
      const cancelled = new Promise((resolve) => worker.once("cancelled", resolve));
      await worker.start();
      await eventually(() => signal !== undefined);
      expect(signal?.aborted).toBe(false);
      await new QueueClient({ store: other }).cancel(task.id);
      await cancelled;
      expect(signal?.aborted).toBe(true);
      expect(await queue.get(task.id)).toMatchObject({ status: "cancelled", cancelRequested: false });
    });

    it("progress and log lines a handler reports are read through a peer while it runs", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const queue = new QueueClient({ store });
      const { task } = await queue.enqueue("report", {});
      let finish = () => {};
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const worker = workerOn(store, {
        report: async (_payload, context) => {
          await context.progress(0.4);
          await context.log("info", "halfway", { done: 2, of: 5 });
          await finished;
          return "reported";
        },
      });
      await worker.start();
      await eventually(async () => (await other.getTask(task.id))?.progress === 0.4);
      // The log line is a write of its own, after the progress: wait for it too.
      await eventually(async () => (await other.taskLogs(task.id)).length > 0);
      expect(await other.taskLogs(task.id)).toMatchObject([{ level: "info", message: "halfway", details: '{"done":2,"of":5}' }]);
      expect(await other.getTask(task.id)).toMatchObject({ status: "leased" });
      finish();
      expect(await new QueueClient({ store: other }).waitFor(task.id, { timeoutMs: 15_000 })).toMatchObject({
        status: "completed",
        result: "reported",
      });
    });
  });
}
