/**
 * Every error the queue raises on purpose is a `QueueError` with a `code` from this union.
 * Detect errors with `isQueueError(err, code)` rather than `instanceof`: a workspace can hold two
 * copies of this package, and the brand is shared across copies.
 */
export type QueueErrorCode =
  /** The write lock stayed taken for the whole busy budget. */
  | "BUSY"
  /** A table is locked by another statement on the same connection. */
  | "LOCKED"
  /** A unique constraint rejected the write. */
  | "UNIQUE_VIOLATION"
  /** Another constraint (CHECK, NOT NULL, FOREIGN KEY) rejected the write. */
  | "CONSTRAINT"
  /** The file is a SQLite database but its content is damaged. */
  | "CORRUPT"
  /** The file is not a SQLite database at all. */
  | "NOT_A_DATABASE"
  /** The file, its directory or the connection is read-only. */
  | "READ_ONLY"
  /** The disk (or the configured page limit) is full. */
  | "DISK_FULL"
  /**
   * The file could not be opened (missing directory, a directory in its place, permissions); or a
   * database server refused the connection for good (wrong password, no such database).
   */
  | "CANNOT_OPEN"
  /**
   * The database server cannot be reached right now: the connection was refused, reset or closed
   * by the server (a restart, a failover, an administrator ending it). Transient: the same call
   * may succeed once the server is back (`details.retryable` is true); a worker retries by itself.
   */
  | "DATABASE_UNAVAILABLE"
  /** The operating system reported an I/O error. */
  | "IO_ERROR"
  /** The database was written by a newer version of the schema than this code knows. */
  | "SCHEMA_TOO_NEW"
  /** The database needs migrations that cannot run (it was opened read-only). */
  | "SCHEMA_OUTDATED"
  /** An option or configuration value is invalid. */
  | "INVALID_CONFIG"
  /** A function was called with an argument it cannot use. */
  | "INVALID_ARGUMENT"
  /** The database handle was used after `close()`. */
  | "CLOSED"
  /** Stored data could not be decoded (for example a JSON column that is not JSON). */
  | "INVALID_DATA"
  /** A payload, result or details value cannot be stored as JSON, or is too large. */
  | "INVALID_PAYLOAD"
  /** No task (or worker) has the given id. */
  | "NOT_FOUND"
  /** The caller no longer holds the task's lease: it expired and the task moved on. */
  | "LEASE_LOST"
  /** The task's status does not allow the operation (for example retrying a completed task). */
  | "INVALID_STATE"
  /**
   * A wait ran out of time: a wait for a task, a statement past the server's statement timeout, or
   * a wait for a free connection of a pool that stayed full (`details.reason` says which).
   */
  | "TIMEOUT"
  /** A wait or operation was aborted through its AbortSignal. */
  | "ABORTED"
  /** Intake is paused for maintenance; retry the same call after it resumes (`details.retryable`). */
  | "PAUSED"
  /**
   * better-sqlite3's native addon is missing or was built for another Node.js version;
   * `details.hint` says what to run.
   */
  | "NATIVE_ADDON_MISSING"
  /** Any other SQLite error. */
  | "SQLITE_ERROR"
  /** Any other error from a PostgreSQL server; `details.sqlState` holds its SQLSTATE code. */
  | "POSTGRES_ERROR";

const QUEUE_ERROR_BRAND = Symbol.for("@queue/core.QueueError");

export interface QueueErrorOptions {
  readonly cause?: unknown;
  /** The database file concerned, when there is one. */
  readonly path?: string;
  /** Structured facts about the failure (versions, keys, limits) for programs to read. */
  readonly details?: Readonly<Record<string, unknown>>;
}

export class QueueError extends Error {
  override readonly name: string = "QueueError";
  readonly code: QueueErrorCode;
  readonly path: string | undefined;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly [QUEUE_ERROR_BRAND] = true;

  constructor(code: QueueErrorCode, message: string, options: QueueErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
    this.details = options.details === undefined ? undefined : Object.freeze({ ...options.details });
  }
}

/** True when `value` is a `QueueError` (from any copy of this package), optionally with one of `codes`. */
export function isQueueError(value: unknown, ...codes: QueueErrorCode[]): value is QueueError {
  if (typeof value !== "object" || value === null) return false;
  if ((value as Record<symbol, unknown>)[QUEUE_ERROR_BRAND] !== true) return false;
  return codes.length === 0 || codes.includes((value as QueueError).code);
}

/** Throws a typed INVALID_CONFIG error naming the option, the value given and what is allowed. */
export function invalidConfig(option: string, value: unknown, expected: string): never {
  throw new QueueError("INVALID_CONFIG", `Invalid ${option}: got ${describeValue(value)}; expected ${expected}.`, {
    details: { option, expected },
  });
}

export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}
