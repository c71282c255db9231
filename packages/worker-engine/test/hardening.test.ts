import { isPermanentError, markPermanent, toTaskError } from "@queue/worker-engine";
import Database from "better-sqlite3";
import { describe, expect, it, vi } from "vitest";
import { eventually, harness } from "./helpers.js";

describe("Worker hardening", () => {
  it("notices work committed by another connection right after its own empty claim", async () => {
    const { client, db, worker } = harness({ realTime: true });
    const foreign = new Database(db.path);
    const original = db.transaction.bind(db);
    let calls = 0;
    // Commit a task from another connection in the instant after the worker's first empty claim
    // commits and before the worker continues: the worker must still see it at its next poll.
    vi.spyOn(db, "transaction").mockImplementation(((fn: never) =>
      original(fn).then((value: unknown) => {
        calls += 1;
        if (calls === 2) {
          const now = Date.now();
          foreign.prepare("INSERT INTO tasks (type, run_after, created_at, updated_at) VALUES ('t', ?, ?, ?)").run(now - 1, now, now);
        }
        return value;
      })) as typeof db.transaction);
    const w = worker({ pollIntervalMs: 10, handlers: { t: () => "seen" } });
    await w.start();
    await eventually(async () => (await client.counts()).completed === 1, 5_000);
    foreign.close();
  });

  it("does not spin on a past-due task it cannot claim", async () => {
    const { client, db, worker } = harness({ realTime: true });
    await client.enqueue("not-mine", null);
    const transaction = vi.spyOn(db, "transaction");
    const w = worker({ pollIntervalMs: 10, handlers: { mine: () => 1 } });
    await w.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Registration and one empty claim; no write transaction per poll.
    expect(transaction.mock.calls.length).toBeLessThanOrEqual(3);
  });

  it("while other processes write work it cannot take, an idle worker reads but takes no write lock; it claims what it can take at once", async () => {
    const { client, db, worker } = harness({ realTime: true });
    const foreign = new Database(db.path);
    const insert = foreign.prepare("INSERT INTO tasks (type, run_after, created_at, updated_at) VALUES (?, ?, ?, ?)");
    const transaction = vi.spyOn(db, "transaction");
    const w = worker({ pollIntervalMs: 10, handlers: { mine: () => "taken" } });
    await w.start();
    for (let n = 0; n < 20; n++) {
      const now = Date.now();
      insert.run("not-mine", now - 1, now, now);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // Registration and the first empty claim only: 20 foreign commits were looked into with reads.
    expect(transaction.mock.calls.length).toBeLessThanOrEqual(3);
    const now = Date.now();
    insert.run("mine", now - 1, now, now);
    await eventually(async () => (await client.counts()).completed === 1, 5_000);
    expect((await client.counts()).queued).toBe(20);
    foreign.close();
  });

  it("runs its own retry when due although the earliest due task in the file is of a paused type", async () => {
    const { client, worker } = harness({ realTime: true });
    await client.enqueue("paused-type", null);
    await client.pause("paused-type");
    const { task } = await client.enqueue("t", null, { maxAttempts: 2 });
    let calls = 0;
    const w = worker({
      pollIntervalMs: 10,
      backoff: { initialDelayMs: 50, jitter: 0 },
      handlers: {
        t: () => {
          calls += 1;
          if (calls === 1) throw new Error("first attempt fails");
          return "second";
        },
      },
    });
    await w.start();
    // No other connection writes: only the worker's own look at the queue can find the retry due.
    expect(await client.waitFor(task.id, { timeoutMs: 5_000 })).toMatchObject({ status: "completed", attempts: 2 });
  });

  it("a cancel requested while running wins when the attempt then fails", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("t", null, { maxAttempts: 5 });
    let fail: (error: Error) => void = () => undefined;
    const w = worker({ heartbeatMs: 60_000, leaseMs: 120_000, handlers: { t: () => new Promise((_, reject) => (fail = reject)) } });
    const cancelled: number[] = [];
    w.on("cancelled", (t) => cancelled.push(t.id));
    await w.start();
    await eventually(() => w.activeTaskIds.includes(task.id));
    await client.cancel(task.id);
    fail(new Error("failed on its own"));
    expect(await client.waitFor(task.id, { timeoutMs: 5_000 })).toMatchObject({ status: "cancelled", attempts: 1 });
    expect(cancelled).toEqual([task.id]);
  });

  it("a cancel requested while running survives a shutdown that releases the task", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("t", null);
    const w = worker({ heartbeatMs: 60_000, leaseMs: 120_000, handlers: { t: () => new Promise(() => undefined) } });
    await w.start();
    await eventually(() => w.activeTaskIds.includes(task.id));
    await client.cancel(task.id);
    await w.stop({ graceful: false });
    expect(await client.get(task.id)).toMatchObject({ status: "cancelled" });
  });

  it("dead-letters a row it cannot decode instead of stopping, and keeps working", async () => {
    const { client, db, worker } = harness();
    db.connection
      .prepare("INSERT INTO tasks (type, priority, payload, run_after, created_at, updated_at) VALUES ('t', -1, '{not json', 0, 0, 0)")
      .run();
    const { task: good } = await client.enqueue("t", { fine: true });
    const stats = await worker({ handlers: { t: (payload) => payload } }).runUntilEmpty();
    expect(stats.completed).toBe(1);
    expect((await client.get(good.id))?.status).toBe("completed");
    const poison = db.connection.prepare("SELECT status, json_extract(error, '$.name') AS name FROM tasks WHERE priority = -1").get();
    expect(poison).toEqual({ status: "dead_letter", name: "InvalidData" });
  });

  it("a handler that throws a value that cannot be described still frees its slot, is recorded, and the worker stops", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("odd", null, { maxAttempts: 1 });
    const unprintable = Object.create(null) as object; // String() throws on it
    const w = worker({ handlers: { odd: async () => Promise.reject(unprintable) } });
    const stats = await w.runUntilEmpty();
    expect(stats.deadLettered).toBe(1);
    expect(w.activeTaskIds).toEqual([]);
    expect(await client.get(task.id)).toMatchObject({ status: "dead_letter", error: { name: "NonError" } });
  }, 15_000);

  it("records its own finished task before recovering expired leases, even when the lease ran out meanwhile", async () => {
    const { client, worker, clock } = harness();
    await client.enqueueMany([0, 1, 2].map((n) => ({ type: "t", payload: n, options: { maxAttempts: 1 } })));
    const w = worker({
      concurrency: 1,
      prefetch: 0,
      leaseMs: 1_000,
      handlers: {
        t: async (payload) => {
          // The process stalls past its lease while running the first task, then finishes it.
          if (payload === 0) clock.advance(5_000);
        },
      },
    });
    const stats = await w.runUntilEmpty();
    expect(stats).toMatchObject({ completed: 3, leaseLost: 0, deadLettered: 0 });
    expect((await client.list({ status: "completed" })).tasks).toHaveLength(3);
  });

  it("never runs a timed-out attempt beside its retry: the handler gets a grace period to stop", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("slow", null, { timeoutMs: 50, maxAttempts: 3 });
    let running = 0;
    let overlap = 0;
    let calls = 0;
    const w = worker({
      abortGraceMs: 1_000,
      backoff: { initialDelayMs: 0, jitter: 0 },
      handlers: {
        slow: async () => {
          calls += 1;
          running += 1;
          overlap = Math.max(overlap, running);
          await new Promise((resolve) => setTimeout(resolve, 150)); // ignores its signal
          running -= 1;
        },
      },
    });
    await w.runUntilEmpty();
    expect(calls).toBe(3);
    expect(overlap).toBe(1);
    expect(await client.get(task.id)).toMatchObject({ status: "dead_letter", attempts: 3, error: { name: "TimeoutError" } });
  });

  it("runUntilEmpty settles when the worker is stopped first", async () => {
    const { client, worker } = harness({ realTime: true });
    await client.enqueue("t", null);
    const w = worker({ handlers: { t: () => new Promise(() => undefined) } });
    const draining = w.runUntilEmpty();
    await eventually(() => w.activeTaskIds.length === 1);
    await w.stop({ graceful: false });
    await expect(draining).resolves.toMatchObject({ claimed: 1 });
  });
});

describe("markPermanent", () => {
  it("makes a permanent error that reads as the original, and leaves the original as it was", () => {
    const original = Object.assign(new TypeError("bad input"), { code: "E_BAD" });
    const permanent = markPermanent(original);
    expect(isPermanentError(permanent)).toBe(true);
    expect(isPermanentError(original)).toBe(false);
    expect(permanent).toBeInstanceOf(TypeError);
    expect(toTaskError(permanent)).toEqual(toTaskError(original));
    expect(toTaskError(permanent)).toMatchObject({ name: "TypeError", message: "bad input", code: "E_BAD" });
    expect(markPermanent(permanent)).toBe(permanent);
    expect(toTaskError(markPermanent("plain text"))).toMatchObject({ name: "PermanentError", message: "plain text" });
  });
});

describe("the error a dead-lettered event carries", () => {
  it("prints as name, message and code, and stays plain fields as JSON", async () => {
    const { client, worker } = harness();
    const { task } = await client.enqueue("send", null, { maxAttempts: 1 });
    const printed: string[] = [];
    const w = worker({
      handlers: {
        send: () => {
          throw Object.assign(new Error("mailbox full"), { code: "E_FULL" });
        },
      },
    });
    w.on("dead-lettered", (dead, error) => printed.push(`task ${dead.id}: ${error}`, String(error), JSON.stringify(Object.keys(error))));
    await w.runUntilEmpty();
    expect(printed).toEqual([
      `task ${task.id}: Error: mailbox full [E_FULL]`,
      "Error: mailbox full [E_FULL]",
      '["name","message","stack","code"]',
    ]);
  });
});
