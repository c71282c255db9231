import { isQueueError, QueueError, type QueueErrorCode } from "./errors.js";
import { isNativeAddonError, nativeAddonError } from "./native-addon.js";

/** True for SQLite's "try again later" results (SQLITE_BUSY and its extended codes), raw or classified. */
export function isBusyError(error: unknown): boolean {
  if (isQueueError(error, "BUSY")) return true;
  const code = sqliteCode(error);
  return code?.startsWith("SQLITE_BUSY") === true;
}

/** The SQLite result code (`SQLITE_...`) carried by a better-sqlite3 error, if any. */
export function sqliteCode(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && code.startsWith("SQLITE_") ? code : undefined;
}

interface Classification {
  readonly code: QueueErrorCode;
  readonly advice: string;
}

function classify(sqlite: string): Classification {
  if (sqlite.startsWith("SQLITE_BUSY"))
    return {
      code: "BUSY",
      advice: "another connection held the write lock for too long; retry later or raise busyTimeoutMs / the busy budget",
    };
  if (sqlite.startsWith("SQLITE_LOCKED"))
    return { code: "LOCKED", advice: "a table is locked by another statement on this connection; finish iterating open statements first" };
  if (sqlite === "SQLITE_CONSTRAINT_UNIQUE" || sqlite === "SQLITE_CONSTRAINT_PRIMARYKEY")
    return { code: "UNIQUE_VIOLATION", advice: "a row with the same key already exists" };
  if (sqlite.startsWith("SQLITE_CONSTRAINT"))
    return { code: "CONSTRAINT", advice: "the values break a constraint of the schema; check the values passed" };
  if (sqlite === "SQLITE_NOTADB")
    return {
      code: "NOT_A_DATABASE",
      advice: "the file is not a SQLite database; point the queue at a new path or restore a backup (the file was left untouched)",
    };
  if (sqlite.startsWith("SQLITE_CORRUPT"))
    return {
      code: "CORRUPT",
      advice: "the database file is damaged; restore it from a backup, or run `PRAGMA integrity_check` to see what is broken",
    };
  if (sqlite === "SQLITE_READONLY_DIRECTORY")
    return {
      code: "READ_ONLY",
      advice:
        "the directory holding the database is not writable, and SQLite must create the -wal and -shm files beside it; make the directory writable",
    };
  if (sqlite.startsWith("SQLITE_READONLY"))
    return {
      code: "READ_ONLY",
      advice: "the file or its directory is not writable; fix the permissions or open the database with readonly: true",
    };
  if (sqlite === "SQLITE_FULL")
    return { code: "DISK_FULL", advice: "the disk (or max_page_count) is full; free space, then retry (committed data is intact)" };
  if (sqlite.startsWith("SQLITE_CANTOPEN"))
    return { code: "CANNOT_OPEN", advice: "check that the directory exists, that the path is not a directory, and that it is readable" };
  if (sqlite.startsWith("SQLITE_IOERR"))
    return { code: "IO_ERROR", advice: "the operating system reported an I/O error; check the disk and the file" };
  return { code: "SQLITE_ERROR", advice: "see the cause for SQLite's message" };
}

/**
 * Turns any error thrown by better-sqlite3 into a `QueueError` whose message names the file and says
 * what to do; a native addon that cannot load becomes NATIVE_ADDON_MISSING. Errors that are already
 * `QueueError`s, and other errors that do not come from SQLite, are returned unchanged.
 */
export function toQueueError(error: unknown, path: string, operation?: string): unknown {
  if (isQueueError(error)) return error;
  if (isNativeAddonError(error)) return nativeAddonError(error as Error);
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new QueueError("CLOSED", `The queue database ${path} is closed; open it again before using it.`, { cause: error, path });
  }
  const sqlite = sqliteCode(error);
  if (sqlite === undefined) return error;
  const { code, advice } = classify(sqlite);
  const what = operation === undefined ? "" : ` while ${operation}`;
  const reason = error instanceof Error ? error.message : String(error);
  return new QueueError(code, `SQLite error on ${path}${what}: ${reason} (${sqlite}). What to do: ${advice}.`, {
    cause: error,
    path,
    details: { sqliteCode: sqlite },
  });
}
