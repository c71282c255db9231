import { QueueClient } from "@queue/client";
import { DatabaseThread, type QueueDatabase } from "@queue/core";
import { afterEach, describe, expect, it } from "vitest";
import { eventually, harness } from "./helpers.js";

const OPS = new URL("./fixtures/thread-ops.ts", import.meta.url);
const DYING_OPS = new URL("./fixtures/thread-ops-dying.ts", import.meta.url);

const threads: DatabaseThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.close()));
});

/** A database thread on `db`'s file serving `module`, started; closed after the test whatever happens. */
async function startedThread(db: QueueDatabase, module = OPS): Promise<DatabaseThread> {
  const thread = new DatabaseThread(db, module);
  threads.push(thread);
  expect(await thread.ready).toBe(true);
  return thread;
}

describe("Worker with a database thread", () => {
  it("claims, records outcomes and renews leases on the thread, and goes on without it once it stops", async () => {
    const { db, worker } = harness({ realTime: true });
    const thread = await startedThread(db);
    const client = new QueueClient({ db, databaseThread: thread });
    // The thread's connection is another connection: its commits move this one's data_version.
    const version = () => db.statement<{ data_version: number }>("PRAGMA data_version").get()?.data_version;
    const before = version();
    await client.enqueueMany(Array.from({ length: 40 }, (_, n) => ({ type: "job", payload: n })));
    expect(version()).not.toBe(before);
    const failing = await client.enqueue("flaky", null, { maxAttempts: 2 });
    const enqueued = version();
    const seen: number[] = [];
    let renewed = 0;
    // Jobs from 20 on wait until the thread has stopped.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const w = worker({
      concurrency: 4,
      strategy: "fifo",
      databaseThread: thread,
      heartbeatMs: 20,
      leaseMs: 1_000,
      backoff: { initialDelayMs: 1, maxDelayMs: 1 },
      handlers: {
        job: async (payload: unknown) => {
          seen.push(payload as number);
          if ((payload as number) >= 20) await gate;
          if (payload === 0) {
            // Held across a few heartbeats: its lease is renewed through the thread.
            const until = db.statement<{ lease_until: number }>("SELECT lease_until FROM tasks WHERE payload = '0'");
            const first = until.get()?.lease_until ?? 0;
            await eventually(() => (until.get()?.lease_until ?? 0) > first);
            renewed += 1;
          }
          return (payload as number) * 2;
        },
        flaky: async () => {
          throw new Error("always");
        },
      },
    });
    const completed: unknown[] = [];
    w.on("completed", (_task, value) => completed.push(value));
    await w.start();
    await eventually(() => completed.length === 20);
    // Claimed and recorded by the thread's connection, not this one.
    expect(version()).not.toBe(enqueued);
    // The thread stops: the worker records and claims the rest on its own connection.
    await thread.close();
    expect(thread.alive).toBe(false);
    open();
    await eventually(() => completed.length === 40);
    await eventually(async () => (await client.get(failing.task.id))?.status === "dead_letter");
    expect(renewed).toBe(1);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, n) => n));
    expect(w.stats).toMatchObject({ completed: 40, retried: 1, deadLettered: 1, leaseLost: 0 });
    const rows = db.statement<{ status: string; n: number }>("SELECT status, count(*) AS n FROM tasks GROUP BY status").all();
    expect(rows).toEqual(
      expect.arrayContaining([
        { status: "completed", n: 40 },
        { status: "dead_letter", n: 1 },
      ]),
    );
    await client.close();
  });

  it("runs until the queue is empty, claiming through the thread", async () => {
    const { db, client, worker } = harness({ realTime: true });
    const thread = await startedThread(db);
    await client.enqueueMany(Array.from({ length: 30 }, (_, n) => ({ type: "job", payload: n })));
    const stats = await worker({
      concurrency: 4,
      strategy: "fifo",
      databaseThread: thread,
      handlers: { job: async () => "done" },
    }).runUntilEmpty();
    expect(stats).toMatchObject({ claimed: 30, completed: 30 });
    expect(db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE status = 'completed'").get()?.n).toBe(30);
    await thread.close();
  });

  it("claims through the thread in a custom strategy's order: the order travels with each claim", async () => {
    const { db, client, worker } = harness({ realTime: true });
    const thread = await startedThread(db);
    const custom = { name: "custom-order", description: "newest id first", order: { by: [{ column: "id", direction: "desc" }] } } as const;
    await client.enqueueMany([1, 2, 3].map((n) => ({ type: "job", payload: n })));
    const order: unknown[] = [];
    const w = worker({
      concurrency: 1,
      prefetch: 0,
      strategy: custom,
      databaseThread: thread,
      handlers: { job: async (n: unknown) => order.push(n) },
    });
    await w.runUntilEmpty();
    expect(order).toEqual([3, 2, 1]);
    await thread.close();
  });

  it("gives back at once the tasks of a claim whose thread stopped before it answered", async () => {
    const { db, client, worker } = harness({ realTime: true });
    const thread = await startedThread(db, DYING_OPS);
    await client.enqueueMany(Array.from({ length: 10 }, (_, n) => ({ type: "job", payload: n })));
    const errors: unknown[] = [];
    const seen: number[] = [];
    // Leases far longer than the test: only the give-back can bring the claimed tasks back.
    const w = worker({
      concurrency: 4,
      strategy: "fifo",
      databaseThread: thread,
      leaseMs: 600_000,
      handlers: { job: async (n: unknown) => seen.push(n as number) },
    });
    w.on("error", (error) => errors.push(error));
    await w.start();
    await eventually(() => seen.length === 10);
    expect(await thread.stopped).toMatchObject({ message: expect.stringContaining("exited (code 7)") });
    expect(errors).toEqual([expect.objectContaining({ code: "CLOSED", message: expect.stringContaining("exited (code 7)") })]);
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 10 }, (_, n) => n));
    await eventually(() => db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE status = 'completed'").get()?.n === 10);
    // The lost claim's attempts were given back: each task ran once, as its first attempt.
    const attempts = db.statement<{ attempts: number }>("SELECT attempts FROM tasks").all();
    expect(attempts.map((row) => row.attempts)).toEqual(Array(10).fill(1));
    expect(w.stats).toMatchObject({ completed: 10, leaseLost: 0 });
  });
});
