import { removeTempDirs, tempDbPath } from "@queue/test-support";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../src/index.js";
import { newRow } from "./helpers.js";

const opened: SqliteStore[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  removeTempDirs();
});

/** A store on a fresh file; closed after the test. */
function freshStore(): SqliteStore {
  const store = SqliteStore.open({ path: tempDbPath() });
  opened.push(store);
  return store;
}

const row = (type = "job") => newRow({ type });

/** A store on a fresh file, with `count` queued tasks; resolves with their ids. */
async function storeWith(count: number): Promise<{ store: SqliteStore; ids: number[] }> {
  const store = freshStore();
  const { rows } = await store.insertTasks(Array.from({ length: count }, () => row()));
  return { store, ids: rows as number[] };
}

/** What a worker's claim does to a task, written directly: it is leased from now on. */
function lease(store: SqliteStore, id: number): void {
  store.db.statement("UPDATE tasks SET status = 'leased', lease_token = 'token', locked_by = 'w', lease_until = 9e15 WHERE id = ?").run(id);
}

async function statuses(store: SqliteStore, ids: readonly number[]): Promise<(string | undefined)[]> {
  return Promise.all(ids.map(async (id) => (await store.getTask(id))?.status));
}

describe("SqliteStore.removeQueuedTasks", () => {
  it("removes only the tasks still queued, with their logs, and answers their ids in the order given", async () => {
    const { store, ids } = await storeWith(5);
    const [first, leased, cancelled, fourth, untouched] = ids as [number, number, number, number, number];
    lease(store, leased);
    await store.cancelTask(cancelled);
    await store.appendTaskLog(first, "info", "about to go", null);

    expect(await store.removeQueuedTasks([fourth, leased, cancelled, 999, first])).toEqual([fourth, first]);
    expect(await statuses(store, ids)).toEqual([undefined, "leased", "cancelled", undefined, "queued"]);
    expect(await store.taskLogs(first)).toEqual([]);
    expect((await store.getTask(untouched))?.status).toBe("queued");
    expect(await store.removeQueuedTasks([])).toEqual([]);
  });

  it("calls the hook inside the transaction, with the ids removed, before anything commits", async () => {
    const { store, ids } = await storeWith(3);
    lease(store, ids[2] as number);
    const other = new Database(store.location);
    other.pragma("busy_timeout = 0");
    const seen: unknown[] = [];
    try {
      const removed = await store.removeQueuedTasks(ids, (removedIds) => {
        seen.push([...removedIds]);
        // Another connection still reads the tasks (nothing committed yet) and cannot write.
        seen.push(other.prepare("SELECT count(*) AS n FROM tasks").get());
        expect(() => other.prepare("BEGIN IMMEDIATE").run()).toThrow(/locked|busy/i);
      });
      expect(removed).toEqual(ids.slice(0, 2));
      expect(seen).toEqual([ids.slice(0, 2), { n: 3 }]);
      expect(other.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 1 });
    } finally {
      other.close();
    }
  });

  it("leaves every task in place when the hook throws, and rejects with the hook's error", async () => {
    const { store, ids } = await storeWith(3);
    await store.appendTaskLog(ids[0] as number, "info", "kept", null);
    const failure = new Error("the registry could not be written");
    await expect(
      store.removeQueuedTasks(ids, () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(await statuses(store, ids)).toEqual(["queued", "queued", "queued"]);
    expect((await store.taskLogs(ids[0] as number)).map((log) => log.message)).toEqual(["kept"]);
    expect(await store.removeQueuedTasks(ids)).toEqual(ids);
  });

  it("does not call the hook when no task was still queued", async () => {
    const { store, ids } = await storeWith(1);
    lease(store, ids[0] as number);
    let called = false;
    expect(
      await store.removeQueuedTasks(ids, () => {
        called = true;
      }),
    ).toEqual([]);
    expect(called).toBe(false);
  });

  it("keeps the change cursor consistent: removed tasks are not delivered, and later changes are, exactly once", async () => {
    const store = freshStore();
    const [kept] = (await store.insertTasks([row("kept")])).rows as number[];
    // The newest change belongs to the tasks about to be removed.
    const removed = (await store.insertTasks([row("gone"), row("gone")])).rows as number[];
    const first = await store.changesAfter(undefined, 100);
    expect(first.rows.map((task) => task.id)).toEqual([kept, ...removed]);

    const failed = store.removeQueuedTasks(removed, () => {
      throw new Error("no");
    });
    await expect(failed).rejects.toThrow("no");
    expect((await store.changesAfter(first.cursor, 100)).rows).toEqual([]);

    expect(await store.removeQueuedTasks(removed)).toEqual(removed);
    expect((await store.changesAfter(first.cursor, 100)).rows).toEqual([]);
    expect((await store.changesAfter(undefined, 100)).rows.map((task) => task.id)).toEqual([kept]);
    const fromNow = await store.latestChange();

    // The next task may take a removed task's id; its change still comes after every cursor read before.
    const next = (await store.insertTasks([row("next")])).rows[0] as number;
    const after = await store.changesAfter(first.cursor, 100);
    expect(after.rows.map((task) => [task.id, task.type])).toEqual([[next, "next"]]);
    expect((await store.changesAfter(fromNow, 100)).rows.map((task) => task.id)).toEqual([next]);
    expect((await store.changesAfter(after.cursor, 100)).rows).toEqual([]);
  });

  it("lists the workers of the registry and the unfinished tasks of a type prefix", async () => {
    const store = freshStore();
    await store.registerWorker({ id: "w2", host: "h", pid: 2, capabilities: [] });
    await store.registerWorker({ id: "w1", host: "h", pid: 1, capabilities: ["gpu"] });
    expect((await store.listWorkers()).map((worker) => [worker.id, worker.pid])).toEqual([
      ["w1", 1],
      ["w2", 2],
    ]);
    const ids = (await store.insertTasks([row("run:a"), row("other"), row("run:b"), row("run:c")])).rows as number[];
    lease(store, ids[2] as number);
    await store.cancelTask(ids[3] as number);
    expect((await store.listUnfinishedTasks("run:")).map((task) => [task.type, task.status])).toEqual([
      ["run:a", "queued"],
      ["run:b", "leased"],
    ]);
    expect(await store.listUnfinishedTasks("")).toHaveLength(3);
  });
});
