import { isBusyError, isQueueError, QueueError, type QueueErrorCode, toQueueError } from "@queue/core";
import { describe, expect, it } from "vitest";

function sqliteError(code: string, message = "sqlite says no"): Error {
  return Object.assign(new Error(message), { code });
}

describe("toQueueError", () => {
  const cases: [string, QueueErrorCode, string][] = [
    ["SQLITE_BUSY", "BUSY", "busy"],
    ["SQLITE_BUSY_SNAPSHOT", "BUSY", "busy"],
    ["SQLITE_LOCKED", "LOCKED", "locked"],
    ["SQLITE_CONSTRAINT_UNIQUE", "UNIQUE_VIOLATION", "already exists"],
    ["SQLITE_CONSTRAINT_PRIMARYKEY", "UNIQUE_VIOLATION", "already exists"],
    ["SQLITE_CONSTRAINT_CHECK", "CONSTRAINT", "constraint"],
    ["SQLITE_CORRUPT", "CORRUPT", "backup"],
    ["SQLITE_NOTADB", "NOT_A_DATABASE", "not a SQLite database"],
    ["SQLITE_READONLY", "READ_ONLY", "readonly: true"],
    ["SQLITE_READONLY_DIRECTORY", "READ_ONLY", "directory"],
    ["SQLITE_FULL", "DISK_FULL", "free space"],
    ["SQLITE_CANTOPEN", "CANNOT_OPEN", "directory exists"],
    ["SQLITE_IOERR_WRITE", "IO_ERROR", "I/O"],
    ["SQLITE_MISUSE", "SQLITE_ERROR", "cause"],
  ];

  it.each(cases)("maps %s to %s with the file and what to do", (sqlite, code, advice) => {
    const cause = sqliteError(sqlite);
    const error = toQueueError(cause, "/data/queue.db", "claiming");
    expect(error).toBeInstanceOf(QueueError);
    const typed = error as QueueError;
    expect(typed.code).toBe(code);
    expect(typed.cause).toBe(cause);
    expect(typed.path).toBe("/data/queue.db");
    expect(typed.message).toContain("/data/queue.db");
    expect(typed.message).toContain("while claiming");
    expect(typed.message).toContain(advice);
    expect(typed.details).toEqual({ sqliteCode: sqlite });
  });

  it("leaves errors that are not SQLite's, and QueueErrors, as they are", () => {
    const plain = new RangeError("nope");
    expect(toQueueError(plain, "/q.db")).toBe(plain);
    const typed = new QueueError("BUSY", "busy");
    expect(toQueueError(typed, "/q.db")).toBe(typed);
  });

  it("reports use of a closed connection as CLOSED", () => {
    const error = toQueueError(new TypeError("The database connection is not open"), "/q.db");
    expect(error).toMatchObject({ code: "CLOSED" });
  });
});

describe("isQueueError", () => {
  it("recognises a QueueError from another copy of the package by its brand", () => {
    const foreign = Object.assign(new Error("x"), { code: "BUSY", [Symbol.for("@queue/core.QueueError")]: true });
    expect(isQueueError(foreign)).toBe(true);
    expect(isQueueError(foreign, "BUSY")).toBe(true);
    expect(isQueueError(foreign, "CORRUPT", "READ_ONLY")).toBe(false);
    expect(isQueueError(Object.assign(new Error("x"), { code: "BUSY" }))).toBe(false);
    expect(isQueueError(null)).toBe(false);
  });

  it("keeps the cause, the details frozen, and a name", () => {
    const cause = new Error("root");
    const error = new QueueError("INVALID_CONFIG", "bad", { cause, details: { option: "x" } });
    expect(error.cause).toBe(cause);
    expect(error.name).toBe("QueueError");
    expect(Object.isFrozen(error.details)).toBe(true);
  });
});

describe("isBusyError", () => {
  it("accepts raw and classified busy errors only", () => {
    expect(isBusyError(sqliteError("SQLITE_BUSY"))).toBe(true);
    expect(isBusyError(new QueueError("BUSY", "busy"))).toBe(true);
    expect(isBusyError(sqliteError("SQLITE_LOCKED"))).toBe(false);
    expect(isBusyError(new Error("SQLITE_BUSY"))).toBe(false);
  });
});

describe("a native addon that cannot load", () => {
  it("becomes NATIVE_ADDON_MISSING with a one-line message and a hint, whatever the Node.js it was built for", () => {
    const missing = new Error(
      "Could not locate the bindings file. Tried:\n → /app/build/better_sqlite3.node\n → /app/out/better_sqlite3.node",
    );
    const otherNode = Object.assign(
      new Error(
        "The module '/app/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 137.",
      ),
      { code: "ERR_DLOPEN_FAILED" },
    );
    for (const cause of [missing, otherNode]) {
      const error = toQueueError(cause, "/data/queue.db") as QueueError;
      expect(isQueueError(error, "NATIVE_ADDON_MISSING")).toBe(true);
      expect(error.message).not.toContain("\n");
      expect(error.message).toContain(process.version);
      expect(error.details?.hint).toMatch(/npm rebuild better-sqlite3/);
      expect(error.cause).toBe(cause);
    }
    expect(toQueueError(new Error("unrelated"), "/data/queue.db")).not.toBeInstanceOf(QueueError);
  });
});
