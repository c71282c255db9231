import { enqueueInTransaction } from "@queue/client";
import type { QueueDatabase } from "@queue/core";
import { localWorkerWaiting } from "@queue/core";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { eventually, harness } from "./helpers.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts the runs of `db`'s statements (of `method`) whose SQL contains `marker`, and hands each
 * run's rows to `onRows`.
 */
function countStatements(
  db: QueueDatabase,
  method: "statement" | "rawStatement",
  marker: string,
  onRows: (rows: unknown[], params: unknown) => void = () => undefined,
): { readonly count: number } {
  const counter = { count: 0 };
  const original = db[method].bind(db) as (sql: string) => ReturnType<QueueDatabase["statement"]>;
  db[method] = ((sql: string) => {
    const statement = original(sql);
    if (!sql.includes(marker)) return statement;
    return new Proxy(statement, {
      get(target, property, receiver) {
        if (property !== "all") return Reflect.get(target, property, receiver);
        return (...args: unknown[]) => {
          counter.count += 1;
          const rows = (target.all as (...a: unknown[]) => unknown[])(...args);
          onRows(rows, args[0]);
          return rows;
        };
      },
    });
  }) as never;
  return counter;
}

const CLAIM_MARKER = "SET status = 'leased'";
const countClaims = (db: QueueDatabase) => countStatements(db, "rawStatement", CLAIM_MARKER);

/**
 * Inserts a task of type "t", through a connection of its own as another process would, right
 * after the first transaction whose claim took fewer tasks than it asked for commits (and before
 * the worker goes on): a claim that came up short, after which the worker believes the queue has
 * nothing more for it.
 */
function writeAfterFirstShortClaim(db: QueueDatabase): { id: number | undefined } {
  let shortClaims = 0;
  countStatements(db, "rawStatement", CLAIM_MARKER, (rows, params) => {
    if (rows.length < (params as { limit: number }).limit) shortClaims += 1;
  });
  const late: { id: number | undefined } = { id: undefined };
  const transaction = db.transaction.bind(db);
  db.transaction = (async (fn: (tx: QueueDatabase) => unknown) => {
    const before = shortClaims;
    const result = await transaction(fn);
    if (late.id === undefined && shortClaims > before) {
      const other = new Database(db.path);
      late.id = Number(
        other.prepare("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('t', '5', 0, 0, 0)").run()
          .lastInsertRowid,
      );
      other.close();
    }
    return result;
  }) as typeof db.transaction;
  return late;
}

describe("Worker: a queue known to be empty", () => {
  it("records tasks finishing one by one without a claim for each freed slot", async () => {
    const { client, db, worker } = harness({ realTime: true });
    await client.enqueueMany([10, 30, 50, 70].map((ms) => ({ type: "t", payload: ms })));
    const claims = countClaims(db);
    const w = worker({ concurrency: 4, prefetch: 0, pollIntervalMs: 60_000, handlers: { t: (ms) => sleep(ms as number) } });
    await w.start();
    await eventually(() => w.stats.completed === 4);
    // The first claim took all four; the second found the queue empty. The four slots freed later
    // cost no claim at all (they used to cost one each).
    expect(claims.count).toBe(2);
    // Work enqueued in this process is claimed at once all the same, not at the next poll.
    const { task } = await client.enqueue("t", 1);
    expect((await client.waitFor(task.id, { timeoutMs: 2_000 })).status).toBe("completed");
    await w.stop();
  });

  it("records tasks that finish together, in the same turn, in one transaction", async () => {
    const { client, db, worker } = harness({ realTime: true });
    await client.enqueueMany([1, 2, 3, 4, 5, 6].map((n) => ({ type: "t", payload: n })));
    const completions = countStatements(db, "statement", "SET status = 'completed'");
    // All six wait for one timer, so they finish in one turn. (Six timers of their own may not fire
    // together: each notes the clock when it is set, and on a busy machine that can tick between.)
    let together: Promise<unknown> | undefined;
    const w = worker({ concurrency: 8, prefetch: 0, pollIntervalMs: 60_000, handlers: { t: () => (together ??= sleep(30)) } });
    await w.start();
    await eventually(() => w.stats.completed === 6);
    // One statement records all six.
    expect(completions.count).toBe(1);
    await w.stop();
  });

  it("claims work another process enqueued as soon as a slot frees, without waiting for a poll", async () => {
    const { client, db, worker } = harness({ realTime: true });
    await client.enqueueMany([
      { type: "t", payload: 60 },
      { type: "t", payload: 400 },
    ]);
    // A slot to spare: the first claim comes up short, so the queue is known to be empty. With a
    // poll interval of a minute, only the slot freed at 60 ms can find the new task in time.
    const w = worker({ concurrency: 3, prefetch: 0, pollIntervalMs: 60_000, handlers: { t: (ms) => sleep(ms as number) } });
    const started: number[] = [];
    w.on("claimed", (task) => started.push(task.payload as number));
    await w.start();
    await eventually(() => started.length === 2);
    // Written as another process would: through its own connection, with no wake-up in this one.
    const other = new Database(db.path);
    const { lastInsertRowid } = other
      .prepare("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('t', '5', 0, 0, 0)")
      .run();
    other.close();
    const done = await client.waitFor(Number(lastInsertRowid), { timeoutMs: 2_000 });
    expect(done.status).toBe("completed");
    // It ran in the slot the 60 ms task freed, while the 400 ms one was still running.
    expect((await client.list({ status: "leased" })).tasks.map((t) => t.payload)).toEqual([400]);
    await w.stop();
  });

  it("tells producers in this process when it has taken all there was, and when it has a backlog", async () => {
    const { client, db, worker } = harness({ realTime: true });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const w = worker({ concurrency: 2, prefetch: 0, pollIntervalMs: 60_000, handlers: { t: () => held } });
    await w.start();
    // Its first claim found an empty queue: it waits for work.
    await eventually(() => localWorkerWaiting(db.path));
    // Four tasks for two slots: its claim comes back full, and two are left behind.
    await client.enqueueMany([1, 2, 3, 4].map((n) => ({ type: "t", payload: n })));
    await eventually(() => w.stats.claimed === 2);
    expect(localWorkerWaiting(db.path)).toBe(false);
    release();
    await eventually(() => w.stats.completed === 4);
    // The claim after the last two finds nothing again.
    await eventually(() => localWorkerWaiting(db.path));
    await w.stop();
    expect(localWorkerWaiting(db.path)).toBe(false);
  });

  it("runs a retry recorded while the queue was known to be empty", async () => {
    const { client, worker } = harness({ realTime: true });
    const { task } = await client.enqueue("flaky", null, { maxAttempts: 2 });
    let calls = 0;
    const w = worker({
      concurrency: 2,
      prefetch: 0,
      pollIntervalMs: 60_000,
      backoff: { initialDelayMs: 5, maxDelayMs: 5, jitter: 0 },
      handlers: {
        flaky: () => {
          calls += 1;
          if (calls === 1) throw new Error("first time");
          return "second time";
        },
      },
    });
    await w.start();
    // Well within the 3 s first poll that a minute's poll interval gives: the retry does not wait for it.
    const final = await client.waitFor(task.id, { timeoutMs: 2_000 });
    expect(final).toMatchObject({ status: "completed", attempts: 2, result: "second time" });
    await w.stop();
  });

  it("claims what another process wrote between a short claim and the record that follows it", async () => {
    const { client, db, worker } = harness({ realTime: true });
    await client.enqueueMany([20, 40, 60].map((ms) => ({ type: "t", payload: ms })));
    // Right after the first claim that comes up short commits (fewer tasks than it asked for: on a
    // loaded machine the last task may be claimed beside an empty slot, and no claim ever finds
    // nothing at all), another process adds a task. The worker records its finished task in a
    // second transaction next: that one must not make it miss the write.
    const late = writeAfterFirstShortClaim(db);
    const w = worker({
      concurrency: 2,
      prefetch: 0,
      leaseMs: 10_000,
      pollIntervalMs: 60_000,
      handlers: { t: (ms) => sleep(ms as number) },
    });
    await w.start();
    await eventually(() => late.id !== undefined);
    // Not at the next poll (3 s) nor when a lease runs out (10 s): at once.
    expect((await client.waitFor(late.id as number, { timeoutMs: 2_000 })).status).toBe("completed");
    await w.stop();
  });

  it("claims what another process wrote between a claim that found nothing and going idle", async () => {
    const { client, db, worker } = harness({ realTime: true });
    // The queue is empty: the first claim finds nothing, nothing runs that could wake the worker,
    // and the first poll is 3 s away. The write lands just after that claim commits.
    const late = writeAfterFirstShortClaim(db);
    const w = worker({ concurrency: 2, prefetch: 0, pollIntervalMs: 60_000, handlers: { t: (ms) => sleep(ms as number) } });
    await w.start();
    await eventually(() => late.id !== undefined);
    expect((await client.waitFor(late.id as number, { timeoutMs: 2_000 })).status).toBe("completed");
    await w.stop();
  });

  it("runs a delayed task that falls due while a past-due task it cannot take waits in the queue", async () => {
    const { client, worker } = harness({ realTime: true });
    await client.enqueue("other", null); // past due, but not a type this worker takes
    const { task: first } = await client.enqueue("t", 320);
    const { task: delayed } = await client.enqueue("t", 1, { delayMs: 300 });
    const w = worker({ concurrency: 2, prefetch: 0, pollIntervalMs: 60_000, handlers: { t: (ms) => sleep(ms as number) } });
    const stats = await w.runUntilEmpty();
    expect(stats.completed).toBe(2);
    expect((await client.get(first.id))?.status).toBe("completed");
    expect((await client.get(delayed.id))?.status).toBe("completed");
  });

  it("claims work enqueued in this process while it was recording that the queue had nothing more", async () => {
    const { client, db, worker } = harness({ realTime: true });
    // "first" runs while "a" waits claimed ahead; when "first" ends, "a" starts from the buffer just
    // before the worker's next claim, which finds nothing more.
    await client.enqueue("first", null);
    const { task } = await client.enqueue("a", null);
    let child: number | undefined;
    const w = worker({
      concurrency: 1,
      prefetch: 1,
      leaseMs: 3_000,
      pollIntervalMs: 60_000,
      handlers: {
        first: () => sleep(30),
        // Enqueued synchronously on the worker's own connection, one microtask into the handler:
        // the announcement lands while that claim's transaction is being settled.
        a: async () => {
          await null;
          child = enqueueInTransaction(db, "c", null).task.id;
        },
        c: () => "done",
      },
    });
    await w.start();
    await client.waitFor(task.id, { timeoutMs: 2_000 });
    await eventually(() => child !== undefined);
    // Not when the finished task's lease would have run out (3 s): at once.
    expect((await client.waitFor(child as number, { timeoutMs: 1_000 })).status).toBe("completed");
    await w.stop();
  });

  it("picks up tasks another Worker on the same connection released, within the poll interval", async () => {
    const { client, worker } = harness({ realTime: true });
    const holder = worker({ concurrency: 1, prefetch: 3, leaseMs: 30_000, handlers: { t: () => sleep(50) } });
    const taker = worker({ concurrency: 4, prefetch: 0, leaseMs: 30_000, pollIntervalMs: 100, handlers: { t: () => "taken" } });
    await holder.start();
    // With a fixed prefetch, the holder claims three tasks ahead of its one slot at once.
    await client.enqueueMany([1, 2, 3, 4].map((n) => ({ type: "t", payload: n })));
    await eventually(() => holder.activeTaskIds.length === 1);
    await taker.start();
    // The holder stops: its running task finishes, the tasks it held ahead go back to the queue,
    // written on the same connection the taker uses, so PRAGMA data_version does not move.
    await holder.stop();
    const started = Date.now();
    await eventually(() => taker.stats.completed + holder.stats.completed === 4, 5_000);
    expect(Date.now() - started).toBeLessThan(1_000);
    await taker.stop();
  });
});
