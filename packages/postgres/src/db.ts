// How the store talks to PostgreSQL: queries with BIGINT read as numbers, transactions that retry
// a deadlock or serialization failure, and driver errors turned into typed QueueErrors (errors.ts).
import pg from "pg";
import { driverError, errorCode, isDriverError, RETRYABLE_SQLSTATES, toQueueError } from "./errors.js";

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
      const result = await queryable.query({ text, values: values as unknown[], types: QUERY_TYPES }).catch(rethrowDriverError);
      return result.rows as Row[];
    },
    async arrays<Row extends readonly unknown[]>(text: string, values: readonly unknown[] = []): Promise<Row[]> {
      const result = await queryable
        .query({ text, values: values as unknown[], types: QUERY_TYPES, rowMode: "array" })
        .catch(rethrowDriverError);
      return result.rows as unknown as Row[];
    },
  };
}

function rethrowDriverError(error: unknown): never {
  throw driverError(error);
}

const MAX_TRIES = 5;

/** A lost connection, seen before the transaction wrote anything: safe to run again on another one. */
function isConnectionLoss(error: unknown): boolean {
  if (!isDriverError(error)) return false;
  const code = errorCode(error);
  if (code !== undefined) return code.startsWith("08") || code.startsWith("57P") || /^E[A-Z]+$/.test(code);
  return /^Connection terminated|not queryable$/.test((error as Error | undefined)?.message ?? "");
}

export interface TransactionOptions {
  /** `BEGIN` options, e.g. "ISOLATION LEVEL REPEATABLE READ READ ONLY". */
  readonly begin?: string;
}

/**
 * Runs `work` in one transaction on a connection of the pool: committed if it resolves, rolled
 * back if it throws. A deadlock or serialization failure runs it again (a few times), and so does
 * a connection found dead before `BEGIN` went through (a pooled connection the server closed), so
 * `work` must only write through `db`. A connection lost later (mid-transaction, or at `COMMIT`,
 * whose outcome is then unknown) is not retried: the caller gets DATABASE_UNAVAILABLE.
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
      throw toQueueError(driverError(error), location);
    }
    // A connection the server ends between two statements emits "error" on the client, which the
    // pool does not listen to while the client is lent out: without a listener it would crash the
    // process. The statement in flight (or the next one) fails all the same.
    let broken: Error | undefined;
    const onError = (error: Error) => {
      broken ??= error;
    };
    client.on("error", onError);
    let begun = false;
    try {
      await client.query(options.begin === undefined ? "BEGIN" : `BEGIN ${options.begin}`).catch(rethrowDriverError);
      begun = true;
      const result = await work(dbOn(client, schema));
      await client.query("COMMIT").catch(rethrowDriverError);
      return result;
    } catch (error) {
      if (broken === undefined && isConnectionLoss(error)) broken = error as Error;
      if (broken === undefined) {
        try {
          await client.query("ROLLBACK");
        } catch (rollbackError) {
          broken = rollbackError as Error;
        }
      }
      const code = errorCode(error);
      const retry = (code !== undefined && RETRYABLE_SQLSTATES.has(code)) || (!begun && isConnectionLoss(error));
      if (attempt < MAX_TRIES && retry) continue;
      throw toQueueError(error, location);
    } finally {
      // A broken connection is destroyed, not returned to the pool; it keeps the listener, in case
      // its socket reports one more error while it closes.
      if (broken === undefined) client.removeListener("error", onError);
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
