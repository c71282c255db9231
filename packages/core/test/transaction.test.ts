import { renameSync, rmSync } from "node:fs";
import { isQueueError, nextDueTime, openQueueDatabase, QueueError } from "@queue/core";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openTemp, track } from "./helpers.js";

const insertWorker = "INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES (?, 'host', 1, 0, 0)";
const workerCount = (db: ReturnType<typeof openTemp>) => db.statement<{ n: number }>("SELECT count(*) AS n FROM workers").get()?.n;

describe("QueueDatabase.transaction", () => {
  it("commits the callback's writes and resolves with its result", async () => {
    const db = openTemp();
    const result = await db.transaction((tx) => {
      tx.statement(insertWorker).run("a");
      return "done";
    });
    expect(result).toBe("done");
    expect(workerCount(db)).toBe(1);
    expect(db.inTransaction).toBe(false);
  });

  it("starts with BEGIN IMMEDIATE, so it holds the write lock before the callback reads", async () => {
    const db = openTemp();
    const other = new Database(db.path);
    other.pragma("busy_timeout = 0");
    await db.transaction(() => {
      expect(() => other.prepare("BEGIN IMMEDIATE").run()).toThrow(/locked|busy/i);
    });
    other.close();
  });

  it("rolls back everything and rethrows the callback's own error", async () => {
    const db = openTemp();
    const failure = new Error("handler exploded");
    const attempt = db.transaction((tx) => {
      tx.statement(insertWorker).run("a");
      throw failure;
    });
    await expect(attempt).rejects.toBe(failure);
    expect(workerCount(db)).toBe(0);
    expect(db.inTransaction).toBe(false);
  });

  it("rejects an asynchronous callback and writes nothing", async () => {
    const db = openTemp();
    const attempt = db.transaction(async (tx) => {
      tx.statement(insertWorker).run("a");
    });
    await expect(attempt).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: expect.stringContaining("synchronous") });
    expect(workerCount(db)).toBe(0);
  });

  it("runs a nested transaction as a savepoint: an inner failure undoes only the inner writes", async () => {
    const db = openTemp();
    await db.transaction((tx) => {
      tx.statement(insertWorker).run("outer");
      expect(() =>
        tx.transactionSync((inner) => {
          inner.statement(insertWorker).run("inner");
          throw new Error("inner fails");
        }),
      ).toThrow("inner fails");
      tx.transactionSync((inner) => inner.statement(insertWorker).run("inner-2"));
    });
    const ids = db
      .statement<{ id: string }>("SELECT id FROM workers ORDER BY id")
      .all()
      .map((row) => row.id);
    expect(ids).toEqual(["inner-2", "outer"]);
  });

  it("classifies constraint failures as typed errors naming the file", async () => {
    const db = openTemp();
    const badStatus = db.transaction((tx) =>
      tx.statement("INSERT INTO tasks (type, status, run_after, created_at, updated_at) VALUES ('t', 'sleeping', 0, 0, 0)").run(),
    );
    await expect(badStatus).rejects.toMatchObject({ code: "CONSTRAINT", path: db.path });
    await db.transaction((tx) => tx.statement(insertWorker).run("a"));
    const duplicate = db.transaction((tx) => tx.statement(insertWorker).run("a"));
    await expect(duplicate).rejects.toMatchObject({ code: "UNIQUE_VIOLATION" });
    const error = await duplicate.catch((caught: unknown) => caught);
    expect(isQueueError(error) && error.message).toContain(db.path);
  });

  it("retries while another connection holds the write lock, then commits", async () => {
    const db = openTemp({ pragmas: { busyTimeoutMs: 0 } });
    const holder = new Database(db.path);
    holder.prepare("BEGIN IMMEDIATE").run();
    setTimeout(() => holder.prepare("COMMIT").run(), 60);
    await db.transaction((tx) => tx.statement(insertWorker).run("after-wait"));
    expect(workerCount(db)).toBe(1);
    holder.close();
  });

  it("surfaces BUSY only when the busy budget is spent", async () => {
    const db = openTemp({ pragmas: { busyTimeoutMs: 0 }, busyRetry: { budgetMs: 40, initialDelayMs: 1, maxDelayMs: 5 } });
    const holder = new Database(db.path);
    holder.prepare("BEGIN IMMEDIATE").run();
    const error = await db.transaction(() => "never").catch((caught: unknown) => caught);
    holder.prepare("ROLLBACK").run();
    holder.close();
    expect(error).toBeInstanceOf(QueueError);
    const busy = error as QueueError;
    expect(busy.code).toBe("BUSY");
    expect(busy.message).toContain(db.path);
    expect(busy.message).toContain("busyRetry.budgetMs");
    expect(busy.details?.attempts).toBeGreaterThan(1);
  });

  it("transactionSync also retries busy and returns synchronously", () => {
    const db = openTemp({ pragmas: { busyTimeoutMs: 0 }, busyRetry: { budgetMs: 30, initialDelayMs: 1, maxDelayMs: 5 } });
    const holder = new Database(db.path);
    holder.prepare("BEGIN IMMEDIATE").run();
    expect(() => db.transactionSync(() => 1)).toThrow(expect.objectContaining({ code: "BUSY" }));
    holder.prepare("COMMIT").run();
    holder.close();
    expect(db.transactionSync(() => 2)).toBe(2);
  });

  it("joins a transaction the connection's owner opened", () => {
    const db = openTemp();
    const connection = new Database(db.path);
    const shared = track(openQueueDatabase({ connection }));
    connection.prepare("BEGIN IMMEDIATE").run();
    shared.transactionSync((tx) => tx.statement(insertWorker).run("joined"));
    connection.prepare("ROLLBACK").run();
    expect(workerCount(db)).toBe(0);
    connection.close();
  });
});

describe("a database file deleted or replaced while open", () => {
  // On Linux the open connection keeps writing to the old inode: writes would "commit" into a file
  // no other process can see, and vanish when this one exits.
  it("refuses writes with READ_ONLY and a clear message once the file was deleted", async () => {
    const db = openTemp();
    await db.transaction((tx) => tx.statement(insertWorker).run("before"));
    for (const suffix of ["", "-wal", "-shm"]) rmSync(`${db.path}${suffix}`, { force: true });
    const failure = await db.transaction((tx) => tx.statement(insertWorker).run("after")).catch((error: unknown) => error);
    expect(isQueueError(failure, "READ_ONLY")).toBe(true);
    expect((failure as QueueError).message).toMatch(/deleted, moved or replaced/);
    expect((failure as QueueError).message).toContain(db.path);
    expect(db.inTransaction).toBe(false);
    expect(() => db.transactionSync((tx) => tx.statement(insertWorker).run("after"))).toThrow(/deleted, moved or replaced/);
  });

  it("refuses writes once another file was renamed over it, and leaves that file untouched", async () => {
    const db = openTemp();
    await db.transaction((tx) => tx.statement(insertWorker).run("before"));
    // The -wal stays: the old connection would go on appending to it, and the new file would read it.
    db.connection.pragma("wal_checkpoint(TRUNCATE)");
    const replacement = `${db.path}.new`;
    openQueueDatabase({ path: replacement }).close();
    renameSync(replacement, db.path);
    await expect(db.transaction((tx) => tx.statement(insertWorker).run("after"))).rejects.toMatchObject({ code: "READ_ONLY" });
    const fresh = track(openQueueDatabase({ path: db.path }));
    expect(workerCount(fresh)).toBe(0);
    await fresh.transaction((tx) => tx.statement(insertWorker).run("fresh"));
    expect(workerCount(fresh)).toBe(1);
  });
});

describe("QueueDatabase.read", () => {
  it("sees one snapshot for all its queries", () => {
    const db = openTemp();
    const writer = new Database(db.path);
    const counts = db.read((tx) => {
      const before = workerCount(tx);
      writer.prepare(insertWorker).run("concurrent");
      return [before, workerCount(tx)];
    });
    expect(counts).toEqual([0, 0]);
    expect(workerCount(db)).toBe(1);
    writer.close();
  });
});

describe("QueueDatabase.statement", () => {
  it("prepares each SQL text once", () => {
    const db = openTemp();
    expect(db.statement("SELECT 1")).toBe(db.statement("SELECT 1"));
    expect(db.statement("SELECT 1")).not.toBe(db.statement("SELECT 2"));
  });

  it("reports bad SQL as a typed error", () => {
    const db = openTemp();
    expect(() => db.statement("SELEC nonsense")).toThrow(expect.objectContaining({ code: "SQLITE_ERROR", path: db.path }));
  });
});

describe("nextDueTime", () => {
  it("is the earliest of the next delayed task and the next lease expiry still to come, whichever exist", () => {
    const db = openTemp();
    expect(nextDueTime(db, 0)).toBeNull();
    db.transactionSync((tx) =>
      tx
        .statement(
          "INSERT INTO tasks (type, status, run_after, lease_token, lease_until, created_at, updated_at) VALUES ('t', 'leased', 0, 'x', 500, 0, 0)",
        )
        .run(),
    );
    expect(nextDueTime(db, 0)).toBe(500);
    db.transactionSync((tx) => tx.statement("INSERT INTO tasks (type, run_after, created_at, updated_at) VALUES ('t', 300, 0, 0)").run());
    expect(nextDueTime(db, 0)).toBe(300);
    // Times already past are skipped: a task due now but left queued (paused, another type) must
    // not hide the next time to come.
    expect(nextDueTime(db, 300)).toBe(500);
    expect(nextDueTime(db, 500)).toBeNull();
  });
});
