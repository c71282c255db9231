import { chmodSync, existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isQueueError, openQueueDatabase, PRODUCTION_PRAGMAS, type QueueError, SCHEMA_VERSION } from "@queue/core";
import { makeTempDir, runTypeScript } from "@queue/test-support";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { fileBytes, fixture, openTemp, tempDbPath, track } from "./helpers.js";

function catchError(work: () => unknown): QueueError {
  try {
    work();
  } catch (error) {
    if (isQueueError(error)) return error;
    throw new Error(`expected a QueueError, got ${String(error)}`);
  }
  throw new Error("expected an error, but the call succeeded");
}

describe("openQueueDatabase", () => {
  it("creates missing parent directories and an owner-only file", () => {
    const path = join(makeTempDir(), "a", "b", "queue.db");
    const db = track(openQueueDatabase({ path }));
    expect(db.path).toBe(path);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(db.schemaVersion()).toBe(SCHEMA_VERSION);
  });

  it("applies the production PRAGMAs", () => {
    const db = openTemp();
    const pragma = (name: string) => db.connection.pragma(name, { simple: true });
    expect(pragma("journal_mode")).toBe("wal");
    expect(pragma("synchronous")).toBe(1);
    expect(pragma("busy_timeout")).toBe(PRODUCTION_PRAGMAS.busyTimeoutMs);
    expect(pragma("foreign_keys")).toBe(1);
    expect(pragma("temp_store")).toBe(2);
    expect(pragma("cache_size")).toBe(-PRODUCTION_PRAGMAS.cacheSizeKiB);
    expect(db.pragmas).toBe(PRODUCTION_PRAGMAS);
    expect(Object.isFrozen(PRODUCTION_PRAGMAS)).toBe(true);
  });

  it("applies PRAGMA overrides on top of the production settings", () => {
    const db = openTemp({ pragmas: { synchronous: "full", busyTimeoutMs: 0, cacheSizeKiB: 1024 } });
    expect(db.connection.pragma("synchronous", { simple: true })).toBe(2);
    expect(db.connection.pragma("busy_timeout", { simple: true })).toBe(0);
    expect(db.connection.pragma("cache_size", { simple: true })).toBe(-1024);
    expect(db.connection.pragma("journal_mode", { simple: true })).toBe("wal");
  });

  it("rejects an invalid PRAGMA value, naming the setting and the allowed values", () => {
    const error = catchError(() => openQueueDatabase({ path: tempDbPath(), pragmas: { synchronous: "sometimes" as never } }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toContain("pragmas.synchronous");
    expect(error.message).toContain('"sometimes"');
    expect(error.message).toContain("off, normal, full, extra");
  });

  it("rejects a negative busy timeout and an unknown PRAGMA setting", () => {
    const negative = catchError(() => openQueueDatabase({ path: tempDbPath(), pragmas: { busyTimeoutMs: -1 } }));
    expect(negative.code).toBe("INVALID_CONFIG");
    expect(negative.message).toContain("pragmas.busyTimeoutMs");
    const unknown = catchError(() => openQueueDatabase({ path: tempDbPath(), pragmas: { journal: "wal" } as never }));
    expect(unknown.message).toContain("pragmas.journal");
    expect(unknown.message).toContain("journalMode");
  });

  it("rejects unknown options and bad option values before touching the disk", () => {
    const dir = makeTempDir();
    const path = join(dir, "queue.db");
    expect(catchError(() => openQueueDatabase({ path, readOnly: true } as never)).message).toContain('"readOnly"');
    expect(catchError(() => openQueueDatabase({ path, readonly: "yes" as never })).code).toBe("INVALID_CONFIG");
    expect(catchError(() => openQueueDatabase({ path, fileMode: 0o1777 })).code).toBe("INVALID_CONFIG");
    expect(catchError(() => openQueueDatabase({ path, busyRetry: { budgetMs: Number.NaN } })).message).toContain("busyRetry.budgetMs");
    expect(catchError(() => openQueueDatabase({ path, clock: {} as never })).message).toContain("clock");
    expect(existsSync(path)).toBe(false);
  });

  it("refuses a directory in place of the file", () => {
    const dir = makeTempDir();
    const error = catchError(() => openQueueDatabase({ path: dir }));
    expect(error.code).toBe("CANNOT_OPEN");
    expect(error.message).toContain(dir);
    expect(error.message).toContain("is a directory");
  });

  it("refuses a path below a regular file with a typed error", () => {
    const file = join(makeTempDir(), "a-file");
    writeFileSync(file, "x");
    const error = catchError(() => openQueueDatabase({ path: join(file, "queue.db") }));
    expect(error.code).toBe("CANNOT_OPEN");
    expect(error.message).toContain("is a file");
  });

  it("refuses a file that is not a database and leaves it untouched", () => {
    const path = join(makeTempDir(), "notes.txt");
    writeFileSync(path, "These are my notes, not a database.\n".repeat(200));
    const before = fileBytes(path);
    const error = catchError(() => openQueueDatabase({ path }));
    expect(error.code).toBe("NOT_A_DATABASE");
    expect(error.message).toContain(path);
    expect(error.message).toContain("untouched");
    expect(fileBytes(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it("refuses a database written by a newer schema, naming both versions, and leaves it untouched", () => {
    const path = tempDbPath();
    openQueueDatabase({ path }).close();
    const raw = new Database(path);
    raw.pragma("journal_mode = delete");
    raw.prepare("INSERT INTO queue_migrations (version, name, applied_at) VALUES (?, 'from-the-future', 0)").run(SCHEMA_VERSION + 5);
    raw.close();
    const before = fileBytes(path);
    const error = catchError(() => openQueueDatabase({ path }));
    expect(error.code).toBe("SCHEMA_TOO_NEW");
    expect(error.message).toContain(`schema version ${SCHEMA_VERSION + 5}`);
    expect(error.message).toContain(`only up to ${SCHEMA_VERSION}`);
    expect(error.details).toEqual({ databaseVersion: SCHEMA_VERSION + 5, codeVersion: SCHEMA_VERSION });
    expect(fileBytes(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it("opens read-only on request: reads work, writes fail with READ_ONLY", async () => {
    const path = tempDbPath();
    openQueueDatabase({ path }).close();
    const db = track(openQueueDatabase({ path, readonly: true }));
    expect(db.readonly).toBe(true);
    expect(db.schemaVersion()).toBe(SCHEMA_VERSION);
    const write = db.transaction((tx) => tx.statement("DELETE FROM workers").run());
    await expect(write).rejects.toMatchObject({ code: "READ_ONLY", path });
  });

  it("refuses to create a missing file when opened read-only", () => {
    const path = tempDbPath();
    expect(catchError(() => openQueueDatabase({ path, readonly: true })).code).toBe("CANNOT_OPEN");
    expect(existsSync(path)).toBe(false);
  });

  it("refuses a read-only open of a database that still needs migrating", () => {
    const path = tempDbPath();
    new Database(path).close();
    const error = catchError(() => openQueueDatabase({ path, readonly: true }));
    expect(error.code).toBe("SCHEMA_OUTDATED");
    expect(error.message).toContain(`to ${SCHEMA_VERSION}`);
  });

  describe("a file that is read-only for this process", () => {
    // Root ignores file permissions, so as root these checks run in a child that drops to `nobody`.
    const asRoot = process.getuid?.() === 0;
    const childOptions = asRoot ? { uid: 65534, gid: 65534 } : {};
    const open = async (path: string, mode: "write" | "readonly") =>
      JSON.parse((await runTypeScript(fixture("open.ts"), [path, mode], childOptions)).stdout);

    function readOnlyDatabase(directoryMode: number): string {
      const dir = makeTempDir();
      const path = join(dir, "queue.db");
      openQueueDatabase({ path }).close();
      chmodSync(path, 0o444);
      chmodSync(dir, directoryMode);
      return path;
    }

    it("is refused for writing with advice, and opens with readonly: true", async () => {
      const path = readOnlyDatabase(0o777);
      const writable = await open(path, "write");
      expect(writable).toMatchObject({ ok: false, code: "READ_ONLY" });
      expect(writable.message).toContain(path);
      expect(writable.message).toContain("readonly: true");
      const readonly = await open(path, "readonly");
      expect(readonly).toMatchObject({ ok: true, version: SCHEMA_VERSION, readonly: true, write: "READ_ONLY" });
    });

    it("in a directory this process cannot write, fails read-only opens with advice about the directory", async () => {
      const path = readOnlyDatabase(asRoot ? 0o755 : 0o555);
      const readonly = await open(path, "readonly");
      expect(readonly).toMatchObject({ ok: false, code: "READ_ONLY" });
      expect(readonly.message).toContain("directory");
      expect(readonly.message).toContain(path);
    });
  });

  it("uses a caller's connection without closing it", () => {
    const path = tempDbPath();
    const connection = new Database(path);
    const db = openQueueDatabase({ connection });
    expect(db.path).toBe(path);
    expect(db.schemaVersion()).toBe(SCHEMA_VERSION);
    db.close();
    expect(db.isOpen).toBe(false);
    expect(connection.open).toBe(true);
    expect(connection.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 0 });
    connection.close();
  });

  it("closes its own connection once, and reports use after close as CLOSED", () => {
    const db = openQueueDatabase({ path: tempDbPath() });
    const connection = db.connection;
    db[Symbol.dispose]();
    db.close();
    expect(connection.open).toBe(false);
    expect(catchError(() => db.statement("SELECT 1")).code).toBe("CLOSED");
    expect(catchError(() => db.read(() => 1)).code).toBe("CLOSED");
  });

  it("works in memory for unit tests that need no file", () => {
    const db = track(openQueueDatabase({ path: ":memory:" }));
    expect(db.schemaVersion()).toBe(SCHEMA_VERSION);
  });
});
