import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { QueueClient } from "@queue/client";
import { onLocalWork } from "@queue/core";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { GroupCommitter } from "../src/group-commit.js";
import { openTemp } from "./helpers.js";

describe("group commit", () => {
  it("a failure after the commit fails only that item and never writes the others twice", async () => {
    const { db } = openTemp();
    // An existing row whose payload cannot be decoded: returning it for its idempotency key fails after the commit.
    db.connection
      .prepare(
        "INSERT INTO tasks (type, payload, idempotency_key, run_after, created_at, updated_at) VALUES ('t', '{broken', 'k', 0, 0, 0)",
      )
      .run();
    const client = new QueueClient({ db });
    const [fresh, existing] = await Promise.allSettled([client.enqueue("t", 1), client.enqueue("t", 2, { idempotencyKey: "k" })]);
    expect(fresh.status).toBe("fulfilled");
    expect(existing).toMatchObject({ status: "rejected", reason: { code: "INVALID_DATA" } });
    expect(db.connection.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 2 });
  });

  it("tells its onRejected hook of every item it rejects, and a hook that throws stops nothing", async () => {
    const heard: [number, string][] = [];
    const committer = new GroupCommitter<number, number>(
      async (items) => {
        // A transaction with item 3 in it fails; alone, each of the others commits.
        if (items.includes(3)) throw new Error("transaction failed");
        return items.map((item) =>
          item === 2 ? { ok: false as const, error: new Error("item 2 is bad") } : { ok: true as const, value: item },
        );
      },
      512,
      (item, error) => {
        heard.push([item, (error as Error).message]);
        throw new Error("the hook fails too");
      },
    );
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((item) => committer.submit(item)));
    expect(outcomes.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : (outcome.reason as Error).message))).toEqual([
      1,
      "item 2 is bad",
      "transaction failed",
      4,
    ]);
    expect(heard).toEqual([
      [2, "item 2 is bad"],
      [3, "transaction failed"],
    ]);
  });

  it("commits flushes in the order they were made, and close() waits for all of them", async () => {
    const { db } = openTemp({ pragmas: { busyTimeoutMs: 0 } });
    const client = new QueueClient({ db });
    const holder = new Database(db.path);
    holder.prepare("BEGIN IMMEDIATE").run();
    const first = client.enqueue("t", "first"); // its flush retries while the lock is held
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = client.enqueue("t", "second"); // a later flush
    setTimeout(() => holder.prepare("COMMIT").run(), 60);
    await client.close();
    const [a, b] = await Promise.all([first, second]);
    expect(a.task.id).toBeLessThan(b.task.id);
    holder.close();
  });

  it("lets the event loop turn between the batches of a large burst, and keeps their order", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const transactions: number[] = [];
    const original = db.transaction.bind(db);
    db.transaction = ((fn: (tx: typeof db) => unknown) => {
      transactions.push(performance.now());
      return original(fn);
    }) as typeof db.transaction;
    // A timer due at once must run before the burst's last batch is written, not after all of it.
    let timerRanAfterBatches = -1;
    setTimeout(() => {
      timerRanAfterBatches = transactions.length;
    }, 0);
    const results = await Promise.all(Array.from({ length: 2_000 }, (_, n) => client.enqueue("t", n)));
    expect(transactions.length).toBe(4); // 512 per transaction
    expect(timerRanAfterBatches).toBeGreaterThan(0);
    expect(timerRanAfterBatches).toBeLessThan(4);
    expect(results.map((result) => result.task.payload)).toEqual(Array.from({ length: 2_000 }, (_, n) => n));
    const ids = results.map((result) => result.task.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    await client.close();
  });

  it("writes short batches while a worker in this process has work to claim, full ones while it waits for work", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const sizes: number[] = [];
    const original = db.transaction.bind(db);
    db.transaction = ((fn: (tx: typeof db) => unknown) =>
      original((tx) => {
        const before = tx.statement<{ n: number }>("SELECT count(*) AS n FROM tasks").get()?.n ?? 0;
        const result = fn(tx);
        sizes.push((tx.statement<{ n: number }>("SELECT count(*) AS n FROM tasks").get()?.n ?? 0) - before);
        return result;
      })) as typeof db.transaction;
    const burst = (from: number) => Promise.all(Array.from({ length: 600 }, (_, n) => client.enqueue("t", from + n)));
    await burst(0);
    expect(sizes).toEqual([512, 88]);
    sizes.length = 0;
    // A worker that still has a backlog: short batches, so its handlers and claims run between them.
    let waiting = false;
    const unsubscribe = onLocalWork(
      db.path,
      () => undefined,
      () => waiting,
    );
    try {
      await burst(600);
      expect(sizes).toEqual([...Array.from({ length: 18 }, () => 32), 24]);
      // The same worker having taken everything there was: full batches, it waits for them.
      sizes.length = 0;
      waiting = true;
      await burst(1_200);
      expect(sizes).toEqual([512, 88]);
    } finally {
      unsubscribe();
    }
    sizes.length = 0;
    await burst(1_800);
    expect(sizes).toEqual([512, 88]);
    await client.close();
  });

  it("still writes everything when the batch size it is given is not a usable number", async () => {
    for (const maxBatch of [
      () => Number.NaN,
      () => 0,
      () => 2.5,
      (): number => {
        throw new Error("no size");
      },
    ]) {
      const batches: number[][] = [];
      const committer = new GroupCommitter<number, number>(async (items) => {
        batches.push([...items]);
        return items.map((item) => ({ ok: true as const, value: item * 10 }));
      }, maxBatch);
      const results = await Promise.all([1, 2, 3].map((item) => committer.submit(item)));
      expect(results).toEqual([10, 20, 30]);
      expect(batches.flat()).toEqual([1, 2, 3]);
    }
  });

  it("lets go of a burst's committed entries while its later batches are still being written", async () => {
    setFlagsFromString("--expose-gc");
    const collectGarbage = runInNewContext("gc") as () => void;
    let releaseSecond: () => void = () => undefined;
    const secondWritten = new Promise<void>((resolve) => {
      releaseSecond = resolve;
    });
    const committer = new GroupCommitter<{ readonly payload: string }, { readonly item: object }>(async (items) => {
      if (items[0]?.payload === "second") await secondWritten;
      // Each result holds its item, as an enqueue result holds the row it was built from.
      return items.map((item) => ({ ok: true as const, value: { item } }));
    }, 1);
    let firstSettled = false;
    const firstItem = (() => {
      const item = { payload: "first" };
      void committer.submit(item).then(() => {
        firstSettled = true;
      });
      return new WeakRef(item);
    })();
    const second = committer.submit({ payload: "second" });
    while (!firstSettled) await new Promise((resolve) => setImmediate(resolve));
    // The second batch is still being written: the first's entry, promise and result must be garbage by now.
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(firstItem.deref()).toBeUndefined();
    releaseSecond();
    await expect(second).resolves.toEqual({ item: { payload: "second" } });
  });
});
