import { type QueueDatabase, QueueError } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import { describe, expect, it, vi } from "vitest";
import { eventually, harness } from "./helpers.js";

function leasedCount(db: QueueDatabase): number {
  return (db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE status = 'leased'").get() as { n: number }).n;
}

function leasedIds(db: QueueDatabase): number[] {
  return db
    .statement<{ id: number }>("SELECT id FROM tasks WHERE status = 'leased'")
    .all()
    .map((row) => row.id);
}

/** A handler that waits until `open()` is called, counting its calls. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const calls: number[] = [];
  return {
    calls,
    open,
    handler: async (payload: unknown) => {
      calls.push(payload as number);
      await opened;
    },
  };
}

describe("Worker: claiming ahead (prefetch)", () => {
  it("holds up to concurrency + prefetch leased tasks and runs only `concurrency` at once", async () => {
    const { client, worker, db } = harness({ realTime: true });
    await client.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ type: "t", payload: n })));
    const { calls, open, handler } = gate();
    const w = worker({ concurrency: 2, prefetch: 3, handlers: { t: handler } });
    await w.start();
    await eventually(() => leasedCount(db) === 5);
    expect(w.activeTaskIds).toHaveLength(2);
    // Claimed ahead in the strategy's order, started in that order.
    expect(calls).toEqual([0, 1]);
    open();
    await eventually(async () => (await client.counts()).completed === 20);
    expect(calls).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });

  it("returns tasks claimed ahead to the queue on stop, without charging an attempt", async () => {
    const { client, worker, db } = harness({ realTime: true });
    await client.enqueueMany(Array.from({ length: 10 }, (_, n) => ({ type: "t", payload: n })));
    const { calls, open, handler } = gate();
    const w = worker({ concurrency: 2, prefetch: 3, handlers: { t: handler } });
    await w.start();
    await eventually(() => leasedCount(db) === 5);
    const stopped = w.stop();
    open();
    await stopped;
    expect(calls).toEqual([0, 1]);
    const rows = db.statement<{ status: string; attempts: number; n: number }>(
      "SELECT status, attempts, count(*) AS n FROM tasks GROUP BY status, attempts ORDER BY status",
    );
    expect(rows.all()).toEqual([
      { status: "completed", attempts: 1, n: 2 },
      { status: "queued", attempts: 0, n: 8 },
    ]);
  });

  it("records a cancel of a task claimed ahead at the next lease renewal; its handler never runs", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task: first } = await client.enqueue("t", 1);
    const { task: second } = await client.enqueue("t", 2);
    const { calls, open, handler } = gate();
    const w = worker({ concurrency: 1, prefetch: 1, heartbeatMs: 20, handlers: { t: handler } });
    const cancelled: number[] = [];
    w.on("cancelled", (task) => cancelled.push(task.id));
    await w.start();
    await eventually(async () => (await client.get(second.id))?.status === "leased");
    await client.cancel(second.id);
    expect(await client.waitFor(second.id, { timeoutMs: 5_000 })).toMatchObject({ status: "cancelled" });
    expect(cancelled).toEqual([second.id]);
    open();
    expect(await client.waitFor(first.id, { timeoutMs: 5_000 })).toMatchObject({ status: "completed" });
    expect(calls).toEqual([1]);
  });

  /** Runs 2,000 short async tasks at concurrency 50; returns the size of every claim and the most tasks leased at once. */
  async function shortTasks(prefetch: number | "auto") {
    const { client, worker, db } = harness();
    await client.enqueueMany(Array.from({ length: 2_000 }, (_, n) => ({ type: "short", payload: n })));
    const transaction = db.transaction.bind(db);
    const claims: number[] = [];
    let mostLeased = 0;
    vi.spyOn(db, "transaction").mockImplementation(((work: (tx: QueueDatabase) => unknown) =>
      transaction((tx) => {
        const result = work(tx);
        // A tick's answer: what it recorded and what it claimed.
        const claimed = (result as { claimed?: unknown } | undefined)?.claimed;
        if (Array.isArray(claimed) && claimed.length > 0) {
          claims.push(claimed.length);
          mostLeased = Math.max(mostLeased, leasedCount(tx));
        }
        return result;
      })) as typeof db.transaction);
    // Short async tasks that finish a few at a time, not all in one turn of the event loop.
    const short = (n: unknown) => new Promise((resolve) => setTimeout(resolve, (n as number) % 3));
    const stats = await worker({ concurrency: 50, prefetch, handlers: { short } }).runUntilEmpty();
    expect(stats.completed).toBe(2_000);
    return { claims, mostLeased };
  }

  it("with a prefetch, every claim while the queue is full takes a batch", async () => {
    const { claims } = await shortTasks(50);
    expect(claims.reduce((sum, n) => sum + n, 0)).toBe(2_000);
    // The first claim fills the slots and the buffer; from then on each refills at least half the
    // buffer (25), but the last, which takes what is left.
    expect(claims[0]).toBe(100);
    expect(Math.min(...claims.slice(1, -1))).toBeGreaterThanOrEqual(25);
  });

  it('"auto" claims ahead once handlers prove short: more tasks leased than slots', async () => {
    // Not the exact batch sizes: "auto" rightly stops claiming ahead (and hands tasks back) while a
    // handler has run for 100 ms, which a loaded machine can cause even for these short tasks.
    const { claims, mostLeased } = await shortTasks("auto");
    expect(claims[0]).toBe(50);
    expect(mostLeased).toBeGreaterThanOrEqual(75);
  });

  it('"auto" claims nothing ahead while handlers take longer than 100 ms', async () => {
    const { client, worker, db } = harness({ realTime: true });
    await client.enqueueMany(Array.from({ length: 6 }, (_, n) => ({ type: "slow", payload: n })));
    // A task claimed ahead is leased but its handler has not started. (A finished task stays
    // leased until its outcome is recorded, just after the claim that refills its slot.)
    const started = new Set<number>();
    const w = worker({
      concurrency: 2,
      handlers: {
        slow: (_payload, { task }) => {
          started.add(task.id);
          return new Promise((resolve) => setTimeout(resolve, 120));
        },
      },
    });
    let leased = 0;
    let ahead = 0;
    const sampler = setInterval(() => {
      const ids = leasedIds(db);
      leased = Math.max(leased, ids.length);
      ahead = Math.max(ahead, ids.filter((id) => !started.has(id)).length);
    }, 5);
    await w.runUntilEmpty();
    clearInterval(sampler);
    expect(leased).toBeGreaterThan(0);
    expect(ahead).toBe(0);
    expect(started.size).toBe(6);
  });

  it('"auto" hands back tasks claimed ahead once every slot holds a handler running longer than 100 ms', async () => {
    const { client, worker, db } = harness({ realTime: true });
    await client.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ type: "t", payload: { n, long: false } })));
    await client.enqueueMany([0, 1].map((n) => ({ type: "t", payload: { n, long: true } })));
    await client.enqueueMany(Array.from({ length: 5 }, (_, n) => ({ type: "t", payload: { n, long: false } })));
    let open: () => void = () => undefined;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const handler = async (payload: unknown) => {
      if ((payload as { long: boolean }).long) await opened;
    };
    const w = worker({ concurrency: 2, handlers: { t: handler } });
    await w.start();
    // The two long tasks fill both slots; the short ones claimed ahead go back to the queue.
    await eventually(async () => leasedCount(db) === 2 && (await client.counts()).queued === 5);
    open();
    await eventually(async () => (await client.counts()).completed === 27);
  });

  it("starts a task held ahead before the next transaction, so its wait overlaps that transaction", async () => {
    const { client, worker, db } = harness({ realTime: true });
    await client.enqueueMany(Array.from({ length: 4 }, (_, n) => ({ type: "t", payload: n })));
    const events: string[] = [];
    const original = db.transaction.bind(db);
    db.transaction = ((fn: (tx: QueueDatabase) => unknown) => {
      events.push("tx");
      return original(fn);
    }) as typeof db.transaction;
    const w = worker({
      concurrency: 1,
      prefetch: 1,
      handlers: {
        t: (payload) => {
          events.push(`start:${String(payload)}`);
          return new Promise<void>((resolve) =>
            setTimeout(() => {
              events.push(`end:${String(payload)}`);
              resolve();
            }, 5),
          );
        },
      },
    });
    await w.runUntilEmpty();
    // Tasks 1 to 3 each waited in the buffer for the one before to end.
    for (const n of [1, 2, 3]) {
      const between = events.slice(events.indexOf(`end:${n - 1}`), events.indexOf(`start:${n}`));
      expect(between, events.join(" ")).not.toContain("tx");
    }
  });

  it("without claim-ahead and with a backlog, refills a freed slot first and records the finished task right after", async () => {
    const { client, worker, db } = harness({ realTime: true });
    await client.enqueueMany(Array.from({ length: 3 }, (_, n) => ({ type: "t", payload: n })));
    const events: string[] = [];
    const status = (n: number) =>
      db.statement<{ status: string }>("SELECT status FROM tasks WHERE json_extract(payload, '$') = ?").get(n)?.status;
    const w = worker({
      concurrency: 1,
      prefetch: 0,
      handlers: {
        t: (payload) => {
          const n = payload as number;
          // The task before this one has finished but is recorded only after this one started.
          events.push(`start:${n}${n > 0 ? `(before:${String(status(n - 1))})` : ""}`);
          return new Promise<void>((resolve) => setTimeout(resolve, 5));
        },
      },
    });
    await w.runUntilEmpty();
    expect(events.filter((event) => event.startsWith("start:"))).toEqual(["start:0", "start:1(before:leased)", "start:2(before:leased)"]);
    expect([0, 1, 2].map(status)).toEqual(["completed", "completed", "completed"]);
  });

  it("rejects a prefetch that is not a count or 'auto'", () => {
    for (const prefetch of [-1, 1.5, Number.NaN, "many"]) {
      expect(() => new Worker({ path: ":memory:", prefetch: prefetch as number, handlers: {} })).toThrow(QueueError);
      expect(() => new Worker({ path: ":memory:", prefetch: prefetch as number, handlers: {} })).toThrow(/prefetch/);
    }
  });
});
