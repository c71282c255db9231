// Transactional enqueue on PostgreSQL: a task written inside the application's own transaction, on
// its own connection, so that the task and the application's writes commit (or roll back) together.
import { DEFAULT_ENQUEUE_LIMITS, type EnqueueOptions, type EnqueueResult, toNewTaskRow } from "@queue/client";
import { type Clock, newTaskRow, QueueError, startEnqueueSpan, systemClock, taskFromRow } from "@queue/core";
import type pg from "pg";
import { dbOn } from "./db.js";
import { toQueueError } from "./errors.js";
import { checkSchemaName, DEFAULT_SCHEMA, quoteIdentifier } from "./location.js";
import { insertTasks } from "./sql/tasks.js";
import { workChannel } from "./wakeup.js";

export interface PostgresEnqueueSettings {
  /** The queue's schema (default `queue`, as a store's URL without `?schema=`). It must be migrated: a store opened on it once has done so. */
  readonly schema?: string;
  /** The clock the task's times are written with (default: the system clock). */
  readonly clock?: Clock;
  /** Largest payload, as JSON bytes. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Attempts per task unless `maxAttempts` is given. Default 3. */
  readonly defaultMaxAttempts?: number;
}

/** What this function's wake-up carries: not any store's own payload, so every listening store (this process's too) wakes its workers. */
const WAKE_PAYLOAD = "enqueue-in-transaction";

/**
 * Enqueues on the application's connection, inside whatever transaction it has open, so that the
 * task commits (or rolls back) with the application's own writes:
 *
 *   const client = await pool.connect();
 *   await client.query("BEGIN");
 *   await client.query("INSERT INTO orders ...", [...]);
 *   await enqueueInTransaction(client, "send-receipt", { orderId }, {}, { schema: "queue" });
 *   await client.query("COMMIT");
 *
 * The payload and options are validated as `QueueClient.enqueue` validates them; an idempotency key
 * already stored returns that task (`created: false`). Workers are woken by a NOTIFY that PostgreSQL
 * delivers when the transaction commits (and never, if it rolls back). Outside a transaction the
 * statement commits by itself. While the transaction is open, the change feed holds back the changes
 * committed after it began (it never skips the task), so keep such transactions short.
 */
export async function enqueueInTransaction<Payload>(
  client: pg.ClientBase,
  type: string,
  payload: Payload,
  options?: EnqueueOptions,
  settings: PostgresEnqueueSettings = {},
): Promise<EnqueueResult<Payload>> {
  const schema = checkSchemaName(settings.schema ?? DEFAULT_SCHEMA);
  const now = (settings.clock ?? systemClock).now();
  const limits = {
    maxPayloadBytes: settings.maxPayloadBytes ?? DEFAULT_ENQUEUE_LIMITS.maxPayloadBytes,
    defaultMaxAttempts: settings.defaultMaxAttempts ?? DEFAULT_ENQUEUE_LIMITS.defaultMaxAttempts,
  };
  const row = toNewTaskRow(type, payload, options, limits, now);
  const span = startEnqueueSpan(row.type);
  const where = `the application's connection, schema ${schema}`;
  try {
    const db = dbOn(client as pg.PoolClient, quoteIdentifier(schema));
    const traced = span === undefined ? row : { ...row, traceParent: span.traceParent };
    let written: Awaited<ReturnType<typeof insertTasks>>;
    try {
      written = await insertTasks(db, [traced], now);
    } catch (error) {
      // 3F000: no such schema; 42P01: no such table (or sequence) in it.
      const code = (error as { code?: unknown }).code;
      if (code === "3F000" || code === "42P01") throw notMigrated(schema, error);
      throw error;
    }
    const [answer] = written;
    if (answer === undefined) throw new Error("enqueueInTransaction: the insert answered no row");
    const created = typeof answer === "number";
    if (created) await db.rows("SELECT pg_notify($1, $2)", [workChannel(schema), WAKE_PAYLOAD]);
    const stored = created ? newTaskRow(answer, traced, now) : answer;
    span?.end(undefined, { "messaging.message.id": String(stored.id) });
    return { task: taskFromRow<Payload>(stored), created };
  } catch (error) {
    span?.end(error);
    throw toQueueError(error, where);
  }
}

function notMigrated(schema: string, cause: unknown): QueueError {
  return new QueueError(
    "INVALID_STATE",
    `The queue's tables are not in schema ${schema} yet: open a store on it once (PostgresStore.open, or queue init --db 'postgres://…?schema=${schema}'), which creates them, before enqueueing in a transaction.`,
    { cause, details: { schema } },
  );
}
