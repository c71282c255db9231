import { QueueClient } from "@queue/client";
import { completeLeasedTasks, releaseLeasedTask } from "@queue/core";
import { describe, expect, it } from "vitest";
import { leaseNext, openTemp } from "./helpers.js";

describe("QueueClient reads", () => {
  it("get returns undefined for a missing task and rejects a bad id", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    expect(await client.get(12345)).toBeUndefined();
    await expect(client.get(0)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("lists newest first by default, pages with a cursor, and filters by status and type", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const ids = (await client.enqueueMany(Array.from({ length: 7 }, (_, n) => ({ type: n % 2 === 0 ? "even" : "odd", payload: n })))).map(
      (result) => result.task.id,
    );
    const first = await client.list({ limit: 3 });
    expect(first.tasks.map((task) => task.id)).toEqual([ids[6], ids[5], ids[4]]);
    const second = await client.list({ limit: 3, cursor: first.nextCursor });
    expect(second.tasks.map((task) => task.id)).toEqual([ids[3], ids[2], ids[1]]);
    const last = await client.list({ limit: 3, cursor: second.nextCursor });
    expect(last.tasks.map((task) => task.id)).toEqual([ids[0]]);
    expect(last.nextCursor).toBeUndefined();
    const oldestEven = await client.list({ type: "even", order: "oldest" });
    expect(oldestEven.tasks.map((task) => task.payload)).toEqual([0, 2, 4, 6]);
    expect((await client.list({ status: "completed" })).tasks).toEqual([]);
    await expect(client.list({ cursor: "abc" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    // A status that is not one is refused, not read as "any status".
    for (const status of ["failed", "constructor"]) {
      await expect(client.list({ status: status as never })).rejects.toMatchObject({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining("queued, leased, dead_letter, cancelled, completed"),
      });
    }
    await expect(client.list({ limit: 0 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("counts tasks by status, every status present", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    await client.enqueueMany([
      { type: "t", payload: 1 },
      { type: "t", payload: 2 },
    ]);
    leaseNext(db);
    expect(await client.counts()).toEqual({ queued: 1, leased: 1, completed: 0, dead_letter: 0, cancelled: 0 });
  });
});

describe("QueueClient.cancel", () => {
  it("cancels a queued task at once", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const { task } = await client.enqueue("t", 1);
    const cancelled = await client.cancel(task.id);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.finishedAt).not.toBeNull();
    expect(leaseNext(db)).toBeUndefined();
    expect((await client.cancel(task.id)).status).toBe("cancelled");
  });

  it("marks a leased task for cancellation and leaves it leased for its worker to abort", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const { task } = await client.enqueue("t", 1);
    leaseNext(db);
    const marked = await client.cancel(task.id);
    expect(marked).toMatchObject({ status: "leased", cancelRequested: true });
  });

  it("refuses to cancel a finished task, and reports a missing one", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const { task } = await client.enqueue("t", 1);
    const lease = leaseNext(db);
    db.transactionSync((tx) => completeLeasedTasks(tx, [{ id: task.id, token: lease?.token ?? "", result: "null" }], tx.clock.now()));
    await expect(client.cancel(task.id)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringContaining("completed") });
    await expect(client.cancel(999)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("QueueClient.retry", () => {
  it("sends a dead-lettered task back with its attempts reset", async () => {
    const { db, clock } = openTemp();
    const client = new QueueClient({ db });
    const { task } = await client.enqueue("t", 1, { maxAttempts: 1 });
    const lease = leaseNext(db);
    db.transactionSync((tx) =>
      releaseLeasedTask(
        tx,
        {
          id: task.id,
          token: lease?.token ?? "",
          status: "dead_letter",
          error: '{"name":"Error","message":"x"}',
          runAfter: 0,
          refundAttempt: false,
        },
        tx.clock.now(),
      ),
    );
    clock.advance(1_000);
    const retried = await client.retry(task.id);
    expect(retried).toMatchObject({ status: "queued", attempts: 0, finishedAt: null });
    expect(retried.runAfter.getTime()).toBe(clock.now());
    expect(leaseNext(db)?.id).toBe(task.id);
  });

  it("refuses to retry a task that is not dead-lettered", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const { task } = await client.enqueue("t", 1);
    await expect(client.retry(task.id)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringContaining("queued") });
    await expect(client.retry(777)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("QueueClient.waitFor", () => {
  it("resolves with the final task once it completes", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const { task } = await client.enqueue("t", 1);
    const lease = leaseNext(db);
    const waiting = client.waitFor<number, { ok: boolean }>(task.id, { timeoutMs: 5_000 });
    setTimeout(
      () =>
        db.transactionSync((tx) =>
          completeLeasedTasks(tx, [{ id: task.id, token: lease?.token ?? "", result: '{"ok":true}' }], tx.clock.now()),
        ),
      30,
    );
    const final = await waiting;
    expect(final).toMatchObject({ status: "completed", result: { ok: true } });
  });

  it("rejects with TIMEOUT, ABORTED or NOT_FOUND", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const { task } = await client.enqueue("t", 1);
    await expect(client.waitFor(task.id, { timeoutMs: 30 })).rejects.toMatchObject({ code: "TIMEOUT" });
    const controller = new AbortController();
    const waiting = client.waitFor(task.id, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: "ABORTED" });
    await expect(client.waitFor(4242)).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("QueueClient pause and resume", () => {
  it("records paused types in the database and stops them being claimed", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    await client.enqueue("emails", 1);
    await client.pause("emails");
    expect(await client.paused()).toEqual(["emails"]);
    expect(leaseNext(db)).toBeUndefined();
    await client.resume("emails");
    await client.pause();
    expect(await client.paused()).toEqual(["*"]);
    expect(leaseNext(db)).toBeUndefined();
    await client.enqueue("emails", 2);
    await client.resume();
    expect(await client.paused()).toEqual([]);
    expect(leaseNext(db)).toBeDefined();
    await expect(client.pause("*")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
