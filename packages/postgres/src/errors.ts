// What the driver or the server reports, classified once: every error that comes out of a query,
// a connect or the pool leaves the store as a QueueError that says what happened and what to do,
// with the driver's error as its cause. Errors of the caller's own callbacks pass through as thrown.
import { isQueueError, QueueError, type QueueErrorCode } from "@queue/core";

/** Errors thrown by pg (a query, a connect, the pool), as opposed to those of callbacks run between queries. */
const fromDriver = new WeakSet<object>();

/** Marks `error` as the driver's and returns it (for rethrowing). */
export function driverError(error: unknown): unknown {
  if (typeof error === "object" && error !== null) fromDriver.add(error);
  return error;
}

/** True for an error the driver threw (see driverError). */
export function isDriverError(error: unknown): boolean {
  return typeof error === "object" && error !== null && fromDriver.has(error);
}

/** SQLSTATEs after which the same transaction, run again, may well succeed: deadlock, serialization failure. */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(["40P01", "40001"]);

/** The SQLSTATE of a server error, or the errno code of a socket error (ECONNREFUSED), if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

const RETRY_ADVICE = "retry the call; workers retry by themselves with backoff";

/** Messages pg gives errors of its own (no SQLSTATE), and what each means. */
const DRIVER_MESSAGES: readonly [RegExp, Classified][] = [
  [
    /^timeout exceeded when trying to connect$/,
    {
      code: "TIMEOUT",
      reason: "pool-exhausted",
      what: "No connection of the pool came free in time: every connection stayed busy",
      advice: "raise maxConnections (and the server's max_connections), lower the workers' concurrency, or look for long transactions",
      retryable: true,
    },
  ],
  [/^Connection terminated due to connection timeout$/, unavailable("Connecting to the server timed out")],
  [/^Connection terminated/, unavailable("The connection to the server was closed")],
  [/not queryable$/, unavailable("The connection to the server was lost")],
  [
    /^Query read timeout$/,
    { code: "TIMEOUT", reason: "query", what: "The server did not answer in time", advice: RETRY_ADVICE, retryable: true },
  ],
];

interface Classified {
  readonly code: QueueErrorCode;
  /** For TIMEOUT: which wait ran out (statement, pool-exhausted, query). */
  readonly reason?: string;
  readonly what: string;
  readonly advice: string;
  readonly retryable?: boolean;
}

function unavailable(what: string): Classified {
  return {
    code: "DATABASE_UNAVAILABLE",
    what,
    advice: "check that PostgreSQL is running and reachable; the call can be retried once it is (workers reconnect by themselves)",
    retryable: true,
  };
}

function classify(code: string | undefined, message: string): Classified | undefined {
  if (code === undefined) return DRIVER_MESSAGES.find(([pattern]) => pattern.test(message))?.[1];
  if (code === "23505") return { code: "UNIQUE_VIOLATION", what: "A unique constraint rejected the write", advice: "see the cause" };
  if (code.startsWith("23")) return { code: "CONSTRAINT", what: "A constraint rejected the write", advice: "see the cause" };
  if (code === "57014") {
    return /statement timeout/i.test(message)
      ? {
          code: "TIMEOUT",
          reason: "statement",
          what: "A statement ran past the server's statement_timeout",
          advice: "look for long transactions holding the queue's rows or tables, or raise statement_timeout; the call can be retried",
          retryable: true,
        }
      : {
          code: "TIMEOUT",
          reason: "cancelled",
          what: "The server cancelled the statement",
          advice: "an administrator or a pooler cancelled it; the call can be retried",
          retryable: true,
        };
  }
  if (RETRYABLE_SQLSTATES.has(code) || code === "55P03") {
    return {
      code: "BUSY",
      what: "The rows stayed locked by other transactions (deadlock, serialization failure or lock timeout, after retries)",
      advice: "look for long transactions on the queue's tables; the call can be retried",
      retryable: true,
    };
  }
  if (code === "25006") return { code: "READ_ONLY", what: "The server is read-only (a standby?)", advice: "connect to the primary" };
  if (code === "53100") return { code: "DISK_FULL", what: "The server's disk is full", advice: "free space on the server" };
  if (code.startsWith("28") || code === "3D000") {
    return {
      code: "CANNOT_OPEN",
      what: "The server refused the connection",
      advice: "check the user, password and database name in the URL",
    };
  }
  if (code === "53300") return unavailable("The server has no connection slot free (too many clients)");
  if (code.startsWith("08") || code.startsWith("57P") || /^E[A-Z]+$/.test(code)) return unavailable("Cannot reach the database");
  return undefined;
}

/**
 * A driver error as a QueueError, with the location in the message and the error as its cause;
 * QueueErrors, and anything the driver did not throw (see driverError), pass through unchanged.
 */
export function toQueueError(error: unknown, location: string): unknown {
  // A caller's callback threw (a hook writing a file, say): not ours to rename.
  if (isQueueError(error) || !(error instanceof Error) || !fromDriver.has(error)) return error;
  const code = errorCode(error);
  const classified = classify(code, error.message);
  const {
    code: queueCode,
    what,
    advice,
    reason,
    retryable,
  } = classified ?? {
    code: "POSTGRES_ERROR" as const,
    what: "PostgreSQL reported an error",
    advice: "see the cause for the server's message",
  };
  const said = error.message === "" ? (code ?? "no message") : error.message.replace(/\.$/, "");
  return new QueueError(queueCode, `${what} (PostgreSQL at ${location}): ${said}. ${capitalize(advice)}.`, {
    cause: error,
    path: location,
    details: {
      ...(code === undefined ? {} : /^E[A-Z]+$/.test(code) ? { errno: code } : { sqlState: code }),
      ...(reason === undefined ? {} : { reason }),
      ...(retryable === true ? { retryable } : {}),
    },
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
