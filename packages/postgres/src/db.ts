// How the store talks to PostgreSQL: queries with BIGINT read as numbers, transactions that retry
// a deadlock or serialization failure, and driver errors turned into typed QueueErrors.
import { isQueueError, QueueError } from "@queue/core";
import pg from "pg";

const INT8_OID = 20;
const parseInt8 = (value: string): number => Number(value);

/** BIGINT columns (ids, times in ms, counts) come back as numbers, as they do from SQLite. */
export const QUERY_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? parseInt8 : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

/** A connection (or the pool) to run statements on, and the schema they name. */
export interface Db {
  /** The schema, quoted for SQL. */
  readonly schema: string;
  /** Rows as objects. */
  rows<Row>(text: string, values?: readonly unknown[]): Promise<Row[]>;
  /** Rows as arrays of values, in the order of the select list. */
  arrays<Row extends readonly unknown[]>(text: string, values?: readonly unknown[]): Promise<Row[]>;
}

type Queryable = pg.Pool | pg.PoolClient;

export function dbOn(queryable: Queryable, schema: string): Db {
  return {
    schema,
    async rows<Row>(text: string, values: readonly unknown[] = []): Promise<Row[]> {
      const result = await queryable.query({ text, values: values as unknown[], types: QUERY_TYPES });
      return result.rows as Row[];
    },
    async arrays<Row extends readonly unknown[]>(text: string, values: readonly unknown[] = []): Promise<Row[]> {
      const result = await queryable.query({ text, values: values as unknown[], types: QUERY_TYPES, rowMode: "array" });
      return result.rows as unknown as Row[];
    },
  };
}

/** SQLSTATEs after which the same transaction, run again, may well succeed. */
const RETRYABLE = new Set(["40P01", "40001"]);
const MAX_TRIES = 5;

export interface TransactionOptions {
  /** `BEGIN` options, e.g. "ISOLATION LEVEL REPEATABLE READ READ ONLY". */
  readonly begin?: string;
}

/**
 * Runs `work` in one transaction on a connection of the pool: committed if it resolves, rolled
 * back if it throws. A deadlock or serialization failure runs it again (a few times), so `work`
 * must only write through `db`.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  schema: string,
  location: string,
  work: (db: Db) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toQueueError(error, location);
    }
    let broken: Error | undefined;
    try {
      await client.query(options.begin === undefined ? "BEGIN" : `BEGIN ${options.begin}`);
      const result = await work(dbOn(client, schema));
      await client.query("COMMIT");
      return result;
    } catch (error) {
      try {
        await client.query("ROLLBACK");
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      const code = (error as { code?: unknown }).code;
      if (attempt < MAX_TRIES && typeof code === "string" && RETRYABLE.has(code)) continue;
      throw toQueueError(error, location);
    } finally {
      client.release(broken);
    }
  }
}

/** Runs one statement (or several that need not see one state) on the pool, with typed errors. */
export async function onPool<T>(pool: pg.Pool, schema: string, location: string, work: (db: Db) => Promise<T>): Promise<T> {
  try {
    return await work(dbOn(pool, schema));
  } catch (error) {
    throw toQueueError(error, location);
  }
}

/** A driver error as a QueueError with the server's location in the message; QueueErrors and plain errors of callbacks pass through. */
export function toQueueError(error: unknown, location: string): unknown {
  if (isQueueError(error) || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== "string") return error;
  const wrap = (queueCode: ConstructorParameters<typeof QueueError>[0], what: string) =>
    new QueueError(queueCode, `${what} (PostgreSQL at ${location}): ${error.message}`, {
      cause: error,
      path: location,
      details: { sqlState: code },
    });
  if (code === "23505") return wrap("UNIQUE_VIOLATION", "A unique constraint rejected the write");
  if (code.startsWith("23")) return wrap("CONSTRAINT", "A constraint rejected the write");
  if (code === "57014") return wrap("TIMEOUT", "A statement ran out of time");
  if (RETRYABLE.has(code) || code === "55P03") return wrap("BUSY", "The rows stayed locked by other transactions");
  if (code === "25006") return wrap("READ_ONLY", "The server is read-only");
  if (code === "53100") return wrap("DISK_FULL", "The server's disk is full");
  if (code.startsWith("08") || code.startsWith("57P") || code.startsWith("28") || code === "3D000" || /^E[A-Z]+$/.test(code)) {
    return wrap("CANNOT_OPEN", "Cannot reach the database");
  }
  return error;
}
