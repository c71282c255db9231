import { renameSync } from "node:fs";
import { canUseDatabaseThread, DatabaseThread, openQueueDatabase, type QueueDatabase, TestClock } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

const OPS = new URL("./fixtures/thread-ops.ts", import.meta.url);
const BROKEN = new URL("./fixtures/thread-broken.ts", import.meta.url);

const open: QueueDatabase[] = [];
const threads: DatabaseThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((thread) => thread.close()));
  for (const db of open.splice(0)) db.close();
  removeTempDirs();
});

function database(): QueueDatabase {
  const db = openQueueDatabase({ path: tempDbPath() });
  open.push(db);
  return db;
}

function start(db: QueueDatabase, module = OPS): DatabaseThread {
  const thread = new DatabaseThread(db, module);
  threads.push(thread);
  return thread;
}

describe("DatabaseThread", () => {
  it("serves its module's operations on a connection of its own to the same file, in order", async () => {
    const db = database();
    db.connection.exec("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('a', '1', 0, 0, 0)");
    const thread = start(db);
    // Without a local fallback, calls made while it starts wait for it.
    const answers = await Promise.all([
      thread.call("later", 30),
      thread.call("echo", { n: 1, at: new Date(5) }),
      thread.call("countTasks", undefined),
    ]);
    expect(await thread.ready).toBe(true);
    expect(answers).toEqual([30, { n: 1, at: new Date(5) }, 1]);
    expect(thread.alive).toBe(true);
  });

  it("rejects with the thread's error: a QueueError keeps its code and details, a SQLite error its code", async () => {
    const thread = start(database());
    await expect(thread.call("refuse", undefined)).rejects.toMatchObject({
      name: "QueueError",
      code: "INVALID_STATE",
      message: "refused on the thread",
      details: { reason: "test" },
    });
    await expect(thread.call("badSql", undefined)).rejects.toMatchObject({
      code: "SQLITE_ERROR",
      message: expect.stringMatching(/no_such_table/),
    });
    await expect(thread.call("nothing", undefined)).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/no operation "nothing"/),
    });
    // A failed call leaves the thread serving.
    expect(await thread.call("echo", 7)).toBe(7);
  });

  it("runs a call's local fallback while the thread starts, and the thread once it is up", async () => {
    const thread = start(database());
    expect(await thread.call("echo", "thread", async () => "local")).toBe("local");
    expect(await thread.ready).toBe(true);
    expect(await thread.call("echo", "thread", async () => "local")).toBe("thread");
  });

  it("refuses an argument it cannot copy without sending anything", async () => {
    const thread = start(database());
    await thread.ready;
    await expect(thread.call("echo", { f: () => 1 })).rejects.toThrow(/could not be cloned/);
    expect(await thread.call("echo", 1)).toBe(1);
  });

  it("falls back to local calls when its module cannot load, and says why otherwise", async () => {
    const thread = start(database(), BROKEN);
    const waiting = thread.call("echo", 1);
    expect(await thread.ready).toBe(false);
    expect(thread.alive).toBe(false);
    await expect(waiting).rejects.toMatchObject({ code: "CLOSED", message: expect.stringMatching(/this module cannot load/) });
    expect(await thread.stopped).toMatchObject({ code: "CLOSED", message: expect.stringMatching(/this module cannot load/) });
    expect(await thread.call("echo", 1, async () => "local")).toBe("local");
  });

  it("opens nothing when the path no longer leads to the application's file", async () => {
    const db = database();
    const other = database();
    // Another database takes the file's place after the application opened it.
    renameSync(other.path, db.path);
    const thread = start(db);
    expect(await thread.ready).toBe(false);
    expect(await thread.stopped).toMatchObject({
      code: "CLOSED",
      message: expect.stringContaining("is no longer the file the application opened"),
    });
    expect(await thread.call("echo", 1, async () => "local")).toBe("local");
  });

  it("after close, runs calls locally or rejects them as closed", async () => {
    const thread = start(database());
    await thread.ready;
    await thread.close();
    expect(thread.alive).toBe(false);
    // Closed, not failed: no reason.
    expect(await thread.stopped).toBeUndefined();
    expect(await thread.call("echo", 1, async () => "local")).toBe("local");
    await expect(thread.call("echo", 1)).rejects.toMatchObject({ code: "CLOSED" });
  });

  it("answers every call made while it closes: locally, or refused as closed", async () => {
    const thread = start(database());
    await thread.ready;
    const before = thread.call("later", 20);
    const closing = thread.close();
    const local = thread.call("echo", 1, async () => "local");
    const refused = expect(thread.call("echo", 2)).rejects.toMatchObject({ code: "CLOSED" });
    expect(await before).toBe(20);
    expect(await local).toBe("local");
    await refused;
    await closing;
    expect(thread.alive).toBe(false);
  });

  it("closes before it has started", async () => {
    const thread = start(database());
    await thread.close();
    expect(await thread.ready).toBe(false);
    expect(await thread.call("echo", 1, async () => "local")).toBe("local");
  });

  it("needs a writable file on the system clock", () => {
    const memory = openQueueDatabase({ path: ":memory:" });
    const testClock = openQueueDatabase({ path: tempDbPath(), clock: new TestClock(0) });
    open.push(memory, testClock);
    expect(canUseDatabaseThread(memory)).toBe(false);
    expect(canUseDatabaseThread(testClock)).toBe(false);
    expect(canUseDatabaseThread(database())).toBe(true);
    expect(() => new DatabaseThread(memory, OPS)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
