import { selectTaskLogs, TASK_COLUMNS, type TaskRow, taskFromRow } from "@queue/core";
import { priority } from "@queue/scheduling";
import { backoffDelay, claim, complete, DEFAULT_BACKOFF, extend, fail, PermanentError } from "@queue/worker-engine";
import { describe, expect, it } from "vitest";
import { eventually, harness } from "./helpers.js";

describe("Worker: success", () => {
  it("runs the handler with payload and context, stores the result, and emits events", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("add", { a: 2, b: 3 });
    const events: string[] = [];
    const w = worker({
      handlers: {
        add: async (payload, ctx) => {
          const { a, b } = payload as { a: number; b: number };
          expect(ctx.task.id).toBe(task.id);
          expect(ctx.task.attempts).toBe(1);
          expect(ctx.signal.aborted).toBe(false);
          await ctx.progress(0.5);
          await ctx.log("info", "adding", { a, b });
          return { sum: a + b };
        },
      },
    });
    w.on("claimed", () => events.push("claimed"));
    w.on("completed", (_task, result) => events.push(`completed:${JSON.stringify(result)}`));
    const stats = await w.runUntilEmpty();
    expect(stats).toMatchObject({ claimed: 1, completed: 1, failed: 0 });
    expect(events).toEqual(["claimed", 'completed:{"sum":5}']);
    const done = await client.get(task.id);
    expect(done).toMatchObject({ status: "completed", result: { sum: 5 }, progress: 0.5, attempts: 1, leaseUntil: null, lockedBy: null });
    expect(done?.finishedAt).not.toBeNull();
    const logs = selectTaskLogs(client.db, task.id);
    expect(logs).toMatchObject([{ level: "info", message: "adding", details: JSON.stringify({ a: 2, b: 3 }) }]);
  });

  it("registers itself in the workers table while running and deregisters on stop", async () => {
    const { client, worker } = harness();
    const w = worker({ handlers: { t: () => undefined }, workerId: "w-registered", capabilities: ["gpu"] });
    await w.start();
    const row = client.db.statement<{ id: string; capabilities: string; pid: number }>("SELECT id, capabilities, pid FROM workers").get();
    expect(row).toEqual({ id: "w-registered", capabilities: '["gpu"]', pid: process.pid });
    await w.stop();
    expect(client.db.statement("SELECT count(*) AS n FROM workers").get()).toEqual({ n: 0 });
    await w.stop();
    await expect(w.start()).rejects.toMatchObject({ code: "INVALID_STATE" });
  });
});

describe("Worker: failure, backoff and dead letter", () => {
  it("retries a failed attempt after exponential backoff measured on the injected clock", async () => {
    const { client, clock, worker } = harness();
    let calls = 0;
    const { task } = await client.enqueue("flaky", null, { maxAttempts: 3 });
    const handlers = {
      flaky: () => {
        calls += 1;
        if (calls < 3) throw Object.assign(new Error(`boom ${calls}`), { code: "E_FLAKY" });
        return "ok";
      },
    };
    const backoff = { initialDelayMs: 1_000, factor: 2, maxDelayMs: 60_000, jitter: 0.5 };
    await worker({ handlers, backoff }).runUntilEmpty();
    const afterFirst = await client.get(task.id);
    expect(afterFirst).toMatchObject({ status: "queued", attempts: 1, error: { name: "Error", message: "boom 1", code: "E_FLAKY" } });
    const delay1 = (afterFirst?.runAfter.getTime() ?? 0) - clock.now();
    expect(delay1).toBeGreaterThanOrEqual(500);
    expect(delay1).toBeLessThanOrEqual(1_000);

    await worker({ handlers, backoff }).runUntilEmpty();
    expect(calls).toBe(1);

    clock.advance(delay1);
    await worker({ handlers, backoff }).runUntilEmpty();
    const afterSecond = await client.get(task.id);
    expect(afterSecond).toMatchObject({ status: "queued", attempts: 2 });
    const delay2 = (afterSecond?.runAfter.getTime() ?? 0) - clock.now();
    expect(delay2).toBeGreaterThanOrEqual(1_000);
    expect(delay2).toBeLessThanOrEqual(2_000);

    clock.advance(delay2);
    await worker({ handlers, backoff }).runUntilEmpty();
    expect(await client.get(task.id)).toMatchObject({ status: "completed", attempts: 3, result: "ok" });
  });

  it("caps the backoff and applies jitter within its bounds", () => {
    const policy = { ...DEFAULT_BACKOFF, initialDelayMs: 100, factor: 10, maxDelayMs: 5_000, jitter: 0.2 };
    expect(backoffDelay(1, policy, () => 0)).toBe(100);
    expect(backoffDelay(2, policy, () => 0)).toBe(1_000);
    expect(backoffDelay(3, policy, () => 0)).toBe(5_000);
    expect(backoffDelay(30, policy, () => 0.999)).toBeGreaterThanOrEqual(4_000);
  });

  it("dead-letters after the last attempt, keeping the error and a stack summary", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("doomed", null, { maxAttempts: 1 });
    const deadLettered: number[] = [];
    const w = worker({
      handlers: {
        doomed: () => {
          throw new TypeError("cannot read the thing");
        },
      },
    });
    w.on("dead-lettered", (t) => deadLettered.push(t.id));
    await w.runUntilEmpty();
    const dead = await client.get(task.id);
    expect(dead).toMatchObject({ status: "dead_letter", attempts: 1, error: { name: "TypeError", message: "cannot read the thing" } });
    expect(dead?.error?.stack).toContain("TypeError: cannot read the thing");
    expect(dead?.finishedAt).not.toBeNull();
    expect(deadLettered).toEqual([task.id]);
  });

  it("skips retries for a PermanentError", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("bad-input", null, { maxAttempts: 10 });
    await worker({
      handlers: {
        "bad-input": () => {
          throw new PermanentError("the address is malformed");
        },
      },
    }).runUntilEmpty();
    expect(await client.get(task.id)).toMatchObject({ status: "dead_letter", attempts: 1, error: { name: "PermanentError" } });
  });

  it("runs a dead-lettered task again after an operator retry", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("once-broken", null, { maxAttempts: 1 });
    let broken = true;
    const handlers = {
      "once-broken": () => {
        if (broken) throw new Error("still broken");
        return "fixed";
      },
    };
    await worker({ handlers }).runUntilEmpty();
    broken = false;
    await client.retry(task.id);
    await worker({ handlers }).runUntilEmpty();
    expect(await client.get(task.id)).toMatchObject({ status: "completed", attempts: 1, result: "fixed" });
  });

  it("dead-letters a result that cannot be stored as JSON", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("big-number", null);
    await worker({ handlers: { "big-number": () => ({ n: 2n ** 70n }) } }).runUntilEmpty();
    expect(await client.get(task.id)).toMatchObject({ status: "dead_letter", error: { message: expect.stringContaining("BigInt") } });
  });
});

describe("Worker: unknown types, capabilities and pauses", () => {
  it("leaves types it has no handler for to other workers by default", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("somebody-else", null);
    const stats = await worker({ handlers: { mine: () => 1 } }).runUntilEmpty();
    expect(stats.claimed).toBe(0);
    expect((await client.get(task.id))?.status).toBe("queued");
  });

  it("with types: 'all', fails a task without a handler permanently with a clear message", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("nobody-handles-this", null, { maxAttempts: 5 });
    const stats = await worker({ handlers: { mine: () => 1 }, types: "all" }).runUntilEmpty();
    expect(stats.deadLettered).toBe(1);
    const dead = await client.get(task.id);
    expect(dead).toMatchObject({ status: "dead_letter", attempts: 1, error: { name: "UnknownTaskType" } });
    expect(dead?.error?.message).toContain('"nobody-handles-this"');
  });

  it("claims a task only when the worker has every capability it requires", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("render", null, { requires: ["gpu", "4k"] });
    expect((await worker({ handlers: { render: () => 1 }, capabilities: ["gpu"] }).runUntilEmpty()).claimed).toBe(0);
    expect((await worker({ handlers: { render: () => 1 }, capabilities: ["gpu", "4k", "extra"] }).runUntilEmpty()).completed).toBe(1);
    expect((await client.get(task.id))?.status).toBe("completed");
  });

  it("does not claim paused types, and claims them again after resume", async () => {
    const { client, worker } = harness();
    await client.enqueue("emails", 1);
    await client.enqueue("reports", 2);
    await client.pause("emails");
    const handlers = { emails: () => 1, reports: () => 2 };
    expect((await worker({ handlers }).runUntilEmpty()).completed).toBe(1);
    expect((await client.counts()).queued).toBe(1);
    await client.resume("emails");
    expect((await worker({ handlers }).runUntilEmpty()).completed).toBe(1);
  });
});

describe("leases", () => {
  const request = (workerId: string) => ({ workerId, strategy: priority, leaseMs: 1_000, limit: 10, capabilities: [] });

  it("extend() reports a stale lease lost, with its token, beside the same task's current lease", async () => {
    const { client, clock, db } = harness();
    const { task } = await client.enqueue("t", null, { maxAttempts: 3 });
    const [stale] = db.transactionSync((tx) => claim(tx, request("w"))).claimed;
    clock.advance(1_000);
    const [current] = db.transactionSync((tx) => claim(tx, request("w"))).claimed;
    if (stale === undefined || current === undefined) throw new Error("expected two claims");
    const result = db.transactionSync((tx) => extend(tx, [stale.lease, current.lease], 1_000));
    expect(result.lostLeases).toEqual([stale.lease]);
    expect([...result.held.keys()]).toEqual([task.id]);
  });

  it("an expired lease makes the task claimable again, and the attempt counts", async () => {
    const { client, clock, db } = harness();
    const { task } = await client.enqueue("t", null);
    const first = db.transactionSync((tx) => claim(tx, request("dead-worker"))).claimed;
    expect(first).toHaveLength(1);
    expect(db.transactionSync((tx) => claim(tx, request("other"))).claimed).toHaveLength(0);
    clock.advance(1_000);
    const outcome = db.transactionSync((tx) => claim(tx, request("other")));
    expect(outcome.recovered.map((t) => t.id)).toEqual([task.id]);
    expect(outcome.claimed.map(({ task: t }) => [t.id, t.attempts, t.lockedBy])).toEqual([[task.id, 2, "other"]]);
  });

  it("rejects a late completion from a worker whose lease expired, and changes nothing", async () => {
    const { client, clock, db } = harness();
    const { task } = await client.enqueue("t", null);
    const [stale] = db.transactionSync((tx) => claim(tx, request("slow-worker"))).claimed;
    clock.advance(1_001);
    const [current] = db.transactionSync((tx) => claim(tx, request("fast-worker"))).claimed;
    if (stale === undefined || current === undefined) throw new Error("expected two claims");
    const before = db.statement<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(task.id);
    expect(() => db.transactionSync((tx) => complete(tx, stale.lease, '"late"'))).toThrow(expect.objectContaining({ code: "LEASE_LOST" }));
    expect(() => db.transactionSync((tx) => fail(tx, stale.lease, { outcome: "retry", error: null }))).toThrow(
      expect.objectContaining({ code: "LEASE_LOST" }),
    );
    expect(db.statement<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(task.id)).toEqual(before);
    db.transactionSync((tx) => complete(tx, current.lease, '"on time"'));
    expect(await client.get(task.id)).toMatchObject({ status: "completed", result: "on time" });
  });

  it("an expired lease on the last attempt dead-letters the task", async () => {
    const { client, clock, db } = harness();
    const { task } = await client.enqueue("t", null, { maxAttempts: 1 });
    db.transactionSync((tx) => claim(tx, request("dies")));
    clock.advance(5_000);
    const outcome = db.transactionSync((tx) => claim(tx, request("other")));
    expect(outcome.claimed).toHaveLength(0);
    const row = db.statement<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(task.id) as TaskRow;
    expect(taskFromRow(row)).toMatchObject({ status: "dead_letter", error: { name: "LeaseExpired" } });
  });

  it("heartbeats keep a long task's lease while it runs, so nobody else takes it", async () => {
    const { client, worker, db } = harness({ realTime: true });
    const { task } = await client.enqueue("long", null);
    // The task runs three leases long; a heartbeat every tenth of a lease leaves room for a busy host.
    const w = worker({
      leaseMs: 400,
      heartbeatMs: 40,
      handlers: { long: () => new Promise((resolve) => setTimeout(() => resolve("done"), 1_200)) },
    });
    await w.start();
    await eventually(() => w.activeTaskIds.includes(task.id));
    const thief = { workerId: "thief", strategy: priority, leaseMs: 1_000, limit: 10, capabilities: [] };
    let stolen = 0;
    while (w.activeTaskIds.includes(task.id)) {
      stolen += db.transactionSync((tx) => claim(tx, thief)).claimed.length;
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await eventually(async () => (await client.get(task.id))?.status === "completed");
    expect(stolen).toBe(0);
    expect(w.stats.leaseLost).toBe(0);
  });

  it("a worker that lost its lease has its handler aborted and its late answer discarded", async () => {
    const { client, worker, db } = harness({ realTime: true });
    const { task } = await client.enqueue("long", null);
    let signalled = false;
    const w = worker({
      leaseMs: 5_000,
      heartbeatMs: 20,
      handlers: {
        long: (_payload, ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener("abort", () => (signalled = true));
            setTimeout(() => resolve("late"), 300);
          }),
      },
    });
    const lost: number[] = [];
    w.on("lease-lost", (t) => lost.push(t.id));
    await w.start();
    await eventually(() => w.activeTaskIds.includes(task.id));
    // The worker stalls past its lease (simulated by expiring it) and another worker takes the task.
    db.connection.prepare("UPDATE tasks SET lease_until = 0 WHERE id = ?").run(task.id);
    const thief = { workerId: "thief", strategy: priority, leaseMs: 60_000, limit: 10, capabilities: [] };
    expect(db.transactionSync((tx) => claim(tx, thief)).claimed).toHaveLength(1);
    await eventually(() => lost.length === 1);
    expect(signalled).toBe(true);
    await eventually(() => w.activeTaskIds.length === 0);
    expect(lost).toEqual([task.id]);
    expect(await client.get(task.id)).toMatchObject({ status: "leased", lockedBy: "thief", attempts: 2 });
  });

  it("a handler that lost its lease cannot write into the task's log: log() rejects with LEASE_LOST", async () => {
    const { client, worker, db } = harness({ realTime: true });
    const { task } = await client.enqueue("long", null);
    let proceed: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (proceed = resolve));
    const logged: unknown[] = [];
    const w = worker({
      leaseMs: 60_000,
      heartbeatMs: 30_000,
      handlers: {
        long: async (_payload, ctx) => {
          await ctx.log("info", "started");
          await stalled;
          logged.push(await ctx.log("info", "after the lease was lost").catch((error: unknown) => error));
        },
      },
    });
    await w.start();
    await eventually(() => w.activeTaskIds.includes(task.id));
    db.connection.prepare("UPDATE tasks SET lease_until = 0 WHERE id = ?").run(task.id);
    const thief = { workerId: "thief", strategy: priority, leaseMs: 60_000, limit: 10, capabilities: [] };
    expect(db.transactionSync((tx) => claim(tx, thief)).claimed).toHaveLength(1);
    proceed();
    await eventually(() => logged.length === 1);
    expect(logged[0]).toMatchObject({ code: "LEASE_LOST" });
    expect(selectTaskLogs(db, task.id).map((line) => line.message)).toEqual(["started"]);
  });
});
