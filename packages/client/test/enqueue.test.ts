import { enqueueInTransaction, QueueClient } from "@queue/client";
import { isQueueError, openQueueDatabase } from "@queue/core";
import Database from "better-sqlite3";
import { describe, expect, it, vi } from "vitest";
import { openTemp } from "./helpers.js";

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (caught: unknown) => caught,
  );
  if (!isQueueError(error)) throw error;
  return error;
}

describe("QueueClient.enqueue", () => {
  it("stores a task with its defaults and returns it as created", async () => {
    const { db, clock } = openTemp();
    const client = new QueueClient({ db });
    const { task, created } = await client.enqueue("send-email", { to: "ada@example.com" });
    expect(created).toBe(true);
    expect(task).toMatchObject({
      type: "send-email",
      payload: { to: "ada@example.com" },
      status: "queued",
      priority: 0,
      attempts: 0,
      maxAttempts: 3,
      idempotencyKey: null,
      timeoutMs: null,
      requiredCapabilities: [],
    });
    expect(task.runAfter.getTime()).toBe(clock.now());
    expect(await client.get(task.id)).toEqual(task);
    // The task is an own, enumerable part of the result, built when read: JSON and spreads keep it.
    const result = await client.enqueue("send-email", { to: "bo@example.com" });
    expect(JSON.parse(JSON.stringify(result))).toMatchObject({ created: true, task: { payload: { to: "bo@example.com" } } });
    expect({ ...result }.task.id).toBe(task.id + 1);
  });

  it("applies priority, delay, run time, attempts, timeout and required capabilities", async () => {
    const { db, clock } = openTemp();
    const client = new QueueClient({ db, defaultMaxAttempts: 7 });
    const delayed = await client.enqueue("t", null, { delayMs: 60_000, priority: -5, timeoutMs: 250, requires: ["gpu", "gpu", "big"] });
    expect(delayed.task).toMatchObject({ priority: -5, maxAttempts: 7, timeoutMs: 250, requiredCapabilities: ["big", "gpu"] });
    expect(delayed.task.runAfter.getTime()).toBe(clock.now() + 60_000);
    const at = new Date(Date.UTC(2031, 5, 1));
    const scheduled = await client.enqueue("t", 1, { runAt: at, maxAttempts: 1 });
    expect(scheduled.task.runAfter).toEqual(at);
    expect(scheduled.task.maxAttempts).toBe(1);
  });

  it.each([
    ["an empty type", "", 1, {}, "INVALID_ARGUMENT", "1 to 255"],
    ["the reserved type *", "*", 1, {}, "INVALID_ARGUMENT", "reserved"],
    ["a type with control characters", "a\u0000b", 1, {}, "INVALID_ARGUMENT", "control"],
    [
      "a payload with a cycle",
      "t",
      (() => {
        const a: Record<string, unknown> = {};
        a.self = a;
        return a;
      })(),
      {},
      "INVALID_PAYLOAD",
      "circular",
    ],
    ["a BigInt", "t", { n: 10n }, {}, "INVALID_PAYLOAD", "BigInt"],
    [
      "a payload nested 100,000 levels deep",
      "t",
      (() => {
        let nested: unknown = null;
        for (let level = 0; level < 100_000; level++) nested = [nested];
        return nested;
      })(),
      {},
      "INVALID_PAYLOAD",
      "nested too deeply",
    ],
    ["a function", "t", { f: () => 1 }, {}, "INVALID_PAYLOAD", "function"],
    ["undefined", "t", undefined, {}, "INVALID_PAYLOAD", "undefined"],
    ["NaN", "t", { n: Number.NaN }, {}, "INVALID_PAYLOAD", "NaN"],
    ["Infinity in an array", "t", [Number.POSITIVE_INFINITY], {}, "INVALID_PAYLOAD", "Infinity"],
    ["an unknown option", "t", 1, { priorty: 1 }, "INVALID_ARGUMENT", "priorty"],
    ["a fractional priority", "t", 1, { priority: 1.5 }, "INVALID_ARGUMENT", "priority"],
    ["both delayMs and runAt", "t", 1, { delayMs: 1, runAt: 5 }, "INVALID_ARGUMENT", "either runAt or delayMs"],
    ["zero maxAttempts", "t", 1, { maxAttempts: 0 }, "INVALID_ARGUMENT", "maxAttempts"],
    ["an empty idempotency key", "t", 1, { idempotencyKey: "" }, "INVALID_ARGUMENT", "idempotencyKey"],
    ["a negative delay", "t", 1, { delayMs: -1 }, "INVALID_ARGUMENT", "delayMs"],
  ])("rejects %s before writing anything", async (_label, type, payload, options, code, text) => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const error = await rejection(client.enqueue(type, payload, options as never));
    expect(error.code).toBe(code);
    expect(error.message).toContain(text);
    expect((await client.counts()).queued).toBe(0);
  });

  it("rejects a payload over the configured size", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db, maxPayloadBytes: 100 });
    const error = await rejection(client.enqueue("t", { text: "x".repeat(200) }));
    expect(error.code).toBe("INVALID_PAYLOAD");
    expect(error.message).toContain("over the limit of 100");
    await expect(client.enqueue("t", { text: "x".repeat(10) })).resolves.toMatchObject({ created: true });
  });

  it("returns the first task when an idempotency key is used again", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const first = await client.enqueue("t", { n: 1 }, { idempotencyKey: "order-42" });
    const second = await client.enqueue("t", { n: 2 }, { idempotencyKey: "order-42" });
    expect(second.created).toBe(false);
    expect(second.task).toEqual(first.task);
    const sameTick = await Promise.all([1, 2, 3].map((n) => client.enqueue("t", { n }, { idempotencyKey: "burst" })));
    expect(new Set(sameTick.map((result) => result.task.id)).size).toBe(1);
    expect(sameTick.filter((result) => result.created)).toHaveLength(1);
    expect((await client.counts()).queued).toBe(2);
  });

  it("commits concurrent enqueues in one transaction, and resolves each only once it is committed", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const observer = new Database(db.path, { readonly: true });
    const transaction = vi.spyOn(db, "transaction");
    const visibleWhenResolved = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        client.enqueue("t", { n }).then(({ task }) => observer.prepare("SELECT count(*) AS n FROM tasks WHERE id = ?").get(task.id)),
      ),
    );
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(visibleWhenResolved.every((row) => (row as { n: number }).n === 1)).toBe(true);
    observer.close();
  });

  it("fails only the bad item of a shared transaction", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    db.connection.exec(
      "CREATE TRIGGER refuse_poison BEFORE INSERT ON tasks WHEN NEW.type = 'poison' BEGIN SELECT RAISE(ABORT, 'poison refused'); END",
    );
    const results = await Promise.allSettled([client.enqueue("good", 1), client.enqueue("poison", 2), client.enqueue("good", 3)]);
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((await client.counts()).queued).toBe(2);
  });

  it("waits for pending enqueues when closing, then refuses new work", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const pending = client.enqueue("t", 1);
    await client.close();
    await expect(pending).resolves.toMatchObject({ created: true });
    await expect(client.enqueue("t", 2)).rejects.toMatchObject({ code: "CLOSED" });
    expect(db.isOpen).toBe(true);
  });
});

describe("QueueClient.enqueueMany", () => {
  it("writes every item in one transaction, in order", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const transaction = vi.spyOn(db, "transaction");
    const results = await client.enqueueMany(
      Array.from({ length: 50 }, (_, n) => ({ type: "t", payload: { n }, options: { priority: n % 3 } })),
    );
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(results.map((result) => (result.task.payload as { n: number }).n)).toEqual(Array.from({ length: 50 }, (_, n) => n));
    expect(await client.enqueueMany([])).toEqual([]);
  });

  it("writes nothing when any item is invalid, and says which", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const error = await rejection(
      client.enqueueMany([
        { type: "t", payload: 1 },
        { type: "t", payload: { bad: 1n } },
      ]),
    );
    expect(error.code).toBe("INVALID_PAYLOAD");
    expect(error.message).toContain("Item 1");
    expect((await client.counts()).queued).toBe(0);
  });
});

describe("QueueClient.enqueueEach", () => {
  it("writes the valid items in one transaction and reports each invalid one in its place", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    await client.enqueue("t", "first", { idempotencyKey: "taken" });
    const transaction = vi.spyOn(db, "transaction");
    const outcomes = await client.enqueueEach([
      { type: "t", payload: 1 },
      { type: "t", payload: { bad: 1n } },
      { type: "", payload: 2 },
      { type: "t", payload: "again", options: { idempotencyKey: "taken" } },
      { type: "t", payload: 3, options: { priority: 4 } },
    ]);
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(outcomes.map((outcome) => outcome.ok)).toEqual([true, false, false, true, true]);
    expect(outcomes[1]).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(outcomes[2]).toMatchObject({ ok: false, error: { code: "INVALID_ARGUMENT" } });
    expect(outcomes[3]).toMatchObject({ ok: true, value: { created: false, task: { payload: "first" } } });
    expect(outcomes[4]).toMatchObject({ ok: true, value: { created: true, task: { payload: 3, priority: 4 } } });
    expect((await client.counts()).queued).toBe(3);
    expect(await client.enqueueEach([])).toEqual([]);
  });

  it("refuses what is not an array, and rejects as a whole when its transaction cannot run", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    expect((await rejection(client.enqueueEach("t" as never))).code).toBe("INVALID_ARGUMENT");
    await client.close();
    expect((await rejection(client.enqueueEach([{ type: "t", payload: 1 }]))).code).toBe("CLOSED");
  });
});

describe("enqueueInTransaction", () => {
  it("commits and rolls back with the application's own writes on the same file", () => {
    const { db: queue } = openTemp();
    const app = new Database(queue.path);
    app.exec("CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)");
    const shared = openQueueDatabase({ connection: app });
    const placeOrder = app.transaction((total: number, fail: boolean) => {
      const { lastInsertRowid } = app.prepare("INSERT INTO orders (total) VALUES (?)").run(total);
      const result = enqueueInTransaction(shared, "send-receipt", { orderId: Number(lastInsertRowid) });
      if (fail) throw new Error("payment declined");
      return result.task.id;
    });
    const id = placeOrder(100, false);
    expect(() => placeOrder(200, true)).toThrow("payment declined");
    expect(app.prepare("SELECT count(*) AS n FROM orders").get()).toEqual({ n: 1 });
    expect(app.prepare("SELECT id, payload FROM tasks").all()).toEqual([{ id, payload: JSON.stringify({ orderId: 1 }) }]);
    shared.close();
    app.close();
  });
});
