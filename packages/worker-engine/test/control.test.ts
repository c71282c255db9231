import { priority } from "@queue/scheduling";
import { claim } from "@queue/worker-engine";
import { describe, expect, it, vi } from "vitest";
import { eventually, harness } from "./helpers.js";

function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true }));
}

describe("Worker: cancellation", () => {
  it("a queued task cancelled before it is claimed never runs", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("t", null);
    await client.cancel(task.id);
    const ran = vi.fn();
    expect((await worker({ handlers: { t: ran } }).runUntilEmpty()).claimed).toBe(0);
    expect(ran).not.toHaveBeenCalled();
  });

  it("cancelling a running task fires its AbortSignal at the next heartbeat and ends it cancelled", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("long", null);
    const cancelled: number[] = [];
    const w = worker({ leaseMs: 5_000, heartbeatMs: 20, handlers: { long: (_payload, ctx) => untilAborted(ctx.signal) } });
    w.on("cancelled", (t) => cancelled.push(t.id));
    await w.start();
    await eventually(() => w.activeTaskIds.includes(task.id));
    await client.cancel(task.id);
    const final = await client.waitFor(task.id, { timeoutMs: 5_000 });
    expect(final).toMatchObject({ status: "cancelled", cancelRequested: false, error: { name: "Cancelled" } });
    expect(cancelled).toEqual([task.id]);
  });

  it("ctx.heartbeat() notices a cancel at once", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("loop", null);
    const w = worker({
      leaseMs: 60_000,
      heartbeatMs: 20_000,
      handlers: {
        loop: async (_payload, ctx) => {
          while (!ctx.signal.aborted) {
            await new Promise((resolve) => setTimeout(resolve, 5));
            await ctx.heartbeat();
          }
          throw ctx.signal.reason;
        },
      },
    });
    await w.start();
    await eventually(() => w.activeTaskIds.includes(task.id));
    await client.cancel(task.id);
    expect((await client.waitFor(task.id, { timeoutMs: 5_000 })).status).toBe("cancelled");
  });
});

describe("Worker: timeouts", () => {
  it("aborts an attempt that outlives its timeout and counts it as a failure", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("slow", null, { timeoutMs: 30, maxAttempts: 1 });
    let sawAbort = false;
    await worker({
      handlers: {
        slow: (_payload, ctx) => {
          ctx.signal.addEventListener("abort", () => (sawAbort = true));
          return new Promise(() => undefined);
        },
      },
    }).runUntilEmpty();
    expect(sawAbort).toBe(true);
    expect(await client.get(task.id)).toMatchObject({ status: "dead_letter", error: { name: "TimeoutError" } });
  });
});

describe("Worker: shutdown", () => {
  it("a graceful stop lets running tasks finish", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("t", null);
    const w = worker({ handlers: { t: () => new Promise((resolve) => setTimeout(() => resolve("finished"), 50)) } });
    await w.start();
    await eventually(() => w.activeTaskIds.length === 1);
    await w.stop({ graceful: true, timeoutMs: 5_000 });
    expect(await client.get(task.id)).toMatchObject({ status: "completed", result: "finished" });
  });

  it("after the shutdown timeout, aborts running tasks and releases their leases for another worker at once", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("stuck", null, { maxAttempts: 1 });
    let aborted = false;
    const w = worker({
      leaseMs: 60_000,
      handlers: {
        stuck: (_payload, ctx) => {
          ctx.signal.addEventListener("abort", () => (aborted = true));
          return new Promise(() => undefined);
        },
      },
    });
    await w.start();
    await eventually(() => w.activeTaskIds.length === 1);
    await Promise.all([w.stop({ timeoutMs: 20 }), w.stop()]);
    expect(aborted).toBe(true);
    expect(await client.get(task.id)).toMatchObject({ status: "queued", attempts: 0, leaseUntil: null, lockedBy: null });
    const next = worker({ handlers: { stuck: () => "taken over" } });
    expect((await next.runUntilEmpty()).completed).toBe(1);
  });

  it("stops on SIGTERM when asked to handle signals", async () => {
    const { worker } = harness();
    const w = worker({ handlers: { t: () => 1 }, handleSignals: true });
    await w.start();
    const stopped = new Promise<void>((resolve) => w.once("stopped", resolve));
    process.emit("SIGTERM");
    await stopped;
    expect(w.state).toBe("stopped");
    expect(process.listenerCount("SIGTERM")).toBe(0);
  });
});

describe("Worker: wake-up and batching", () => {
  it("wakes immediately on an enqueue in the same process, without waiting for a poll", async () => {
    const { client, worker } = harness({ realTime: true });
    const w = worker({ pollIntervalMs: 60_000, handlers: { t: () => "ran" } });
    await w.start();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const { task } = await client.enqueue("t", null);
    const final = await client.waitFor(task.id, { timeoutMs: 5_000 });
    expect(final.status).toBe("completed");
  });

  it("records outcomes and claims in shared transactions: well under two writes per task at load", async () => {
    const { client, worker, db } = harness();
    await client.enqueueMany(Array.from({ length: 1_000 }, (_, n) => ({ type: "noop", payload: n })));
    const transaction = vi.spyOn(db, "transaction");
    const stats = await worker({ concurrency: 50, handlers: { noop: () => undefined } }).runUntilEmpty();
    expect(stats.completed).toBe(1_000);
    const writesPerTask = transaction.mock.calls.length / 1_000;
    expect(writesPerTask).toBeLessThan(0.5);
  });
});

describe("Worker: outcomes", () => {
  it("records every outcome when handlers finish while a commit is in flight", async () => {
    const { client, worker } = harness({ realTime: true });
    await client.enqueueMany(Array.from({ length: 300 }, (_, n) => ({ type: "staggered", payload: n })));
    const w = worker({
      concurrency: 10,
      leaseMs: 60_000,
      handlers: {
        // Handlers finish a varying number of microtask turns apart, so some finish while the
        // worker is committing the others' outcomes.
        staggered: async (payload, ctx) => {
          const turns = ((payload as number) * 7) % 6;
          for (let turn = 0; turn < turns; turn++) await null;
          if ((payload as number) % 3 === 0) await ctx.log("info", "half way");
          return payload;
        },
      },
    });
    const stats = await w.runUntilEmpty();
    expect(stats).toMatchObject({ completed: 300, recovered: 0, leaseLost: 0 });
    expect(await client.counts()).toMatchObject({ completed: 300, leased: 0 });
  });

  it("lets a handler take its context's members off it and use them", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task: queued } = await client.enqueue("parts", null);
    const w = worker({
      concurrency: 1,
      handlers: {
        parts: async (_payload, ctx) => {
          const { task, signal, heartbeat, progress, log } = ctx;
          await heartbeat();
          await progress(0.5);
          await log("info", "half way");
          return { id: task.id, aborted: signal.aborted, same: ctx.heartbeat === heartbeat };
        },
      },
    });
    await w.runUntilEmpty();
    const done = await client.get(queued.id);
    expect(done).toMatchObject({ status: "completed", progress: 0.5, result: { id: queued.id, aborted: false, same: true } });
  });

  it("reports each recorded outcome in one light event, with the task as claimed", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task: ok } = await client.enqueue("ok", 7);
    const { task: broken } = await client.enqueue("broken", null, { maxAttempts: 1 });
    const { task: flaky } = await client.enqueue("flaky", null, { maxAttempts: 2 });
    let flakyCalls = 0;
    const w = worker({
      concurrency: 3,
      backoff: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0 },
      handlers: {
        ok: (n) => (n as number) * 6,
        broken: () => {
          throw new Error("no luck");
        },
        flaky: () => {
          flakyCalls += 1;
          if (flakyCalls === 1) throw new Error("not yet");
          return "now";
        },
      },
    });
    const seen: { id: number; claimedAs: string; status: string; result?: unknown; error?: string | undefined }[] = [];
    let counted = 0;
    w.on("recorded", (task, outcome) => {
      expect(outcome.at).toBeGreaterThan(0);
      // The stats already count the outcome reported.
      counted += 1;
      expect(w.stats.completed + w.stats.failed).toBe(counted);
      seen.push({
        id: task.id,
        claimedAs: task.status,
        status: outcome.status,
        ...(outcome.status === "completed" ? { result: outcome.result } : { error: outcome.error?.message }),
      });
    });
    await w.start();
    // The retry waits out its backoff, so the queue looks empty in between: wait for all four.
    await eventually(() => seen.length === 4);
    await w.stop();
    expect(seen.every((entry) => entry.claimedAs === "leased")).toBe(true);
    expect(seen.filter((entry) => entry.id === ok.id)).toEqual([{ id: ok.id, claimedAs: "leased", status: "completed", result: 42 }]);
    expect(seen.filter((entry) => entry.id === broken.id)).toEqual([
      { id: broken.id, claimedAs: "leased", status: "dead_letter", error: "no luck" },
    ]);
    expect(seen.filter((entry) => entry.id === flaky.id).map((entry) => entry.status)).toEqual(["queued", "completed"]);
  });
});

describe("Worker: resilience", () => {
  it("reports a failing tick as an error event, keeps running, and recovers when the database does", async () => {
    const { client, worker, db } = harness({ realTime: true });
    db.connection.exec(`CREATE TABLE outage (on_off INTEGER);
      CREATE TRIGGER refuse_claims BEFORE UPDATE OF status ON tasks WHEN (SELECT count(*) FROM outage) > 0
      BEGIN SELECT RAISE(ABORT, 'simulated outage'); END;
      INSERT INTO outage VALUES (1);`);
    const errors: unknown[] = [];
    const w = worker({ pollIntervalMs: 5, handlers: { t: () => "ok" } });
    w.on("error", (error) => errors.push(error));
    await w.start();
    const { task } = await client.enqueue("t", null);
    await eventually(() => errors.length >= 2);
    expect(errors[0]).toMatchObject({ code: "CONSTRAINT", message: expect.stringContaining("simulated outage") });
    expect(w.state).toBe("running");
    db.connection.exec("DELETE FROM outage");
    expect((await client.waitFor(task.id, { timeoutMs: 10_000 })).status).toBe("completed");
  });
});

describe("leases and cancellation", () => {
  it("a task whose worker died while a cancel was pending ends cancelled when its lease expires", async () => {
    const { client, clock, db } = harness();
    const { task } = await client.enqueue("t", null, { maxAttempts: 5 });
    db.transactionSync((tx) => claim(tx, { workerId: "dies", strategy: priority, leaseMs: 1_000, limit: 1, capabilities: [] }));
    await client.cancel(task.id);
    clock.advance(1_000);
    const outcome = db.transactionSync((tx) =>
      claim(tx, { workerId: "other", strategy: priority, leaseMs: 1_000, limit: 1, capabilities: [] }),
    );
    expect(outcome.claimed).toHaveLength(0);
    expect(await client.get(task.id)).toMatchObject({ status: "cancelled" });
  });

  it("claim() called outside a transaction runs in one of its own, so a pause read and the claim agree", async () => {
    const { client, db } = harness();
    const { task } = await client.enqueue("t", null);
    await client.enqueue("held", null);
    await client.pause("held");
    const outcome = claim(db, { workerId: "w", strategy: priority, leaseMs: 1_000, limit: 5, capabilities: [] });
    expect(outcome.claimed.map((claimed) => claimed.task.id)).toEqual([task.id]);
    expect(db.inTransaction).toBe(false);
    expect(await client.get(task.id)).toMatchObject({ status: "leased", lockedBy: "w" });
  });
});
