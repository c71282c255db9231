// Our own PostgreSQL backend (@queue/postgres) through the same public API as the SQLite variants
// (QueueClient and Worker, given a PostgresStore), against the same loopback server as the
// PostgreSQL peers. Each run works in a fresh schema of its own, migrated before the clock starts
// and dropped after. When the server does not answer, every variant records "not run" with the
// address instead of failing the bench. Each returns operations/second.
import { QueueClient } from "@queue/client";
import { PostgresStore } from "@queue/postgres";
import { POSTGRES_URL } from "./peers/availability.js";
import { awaitedCalls, batchedCalls, inFlightCalls, PAYLOAD_OBJECT, perSecond } from "./peers/common.js";
import { withSchema } from "./peers/postgres.js";
import { drainInProcesses } from "./queue-ops.js";

/** The URL of `schema` on the bench's server, as a user would write it (`?schema=NAME`). */
export function schemaUrl(schema: string): string {
  return `${POSTGRES_URL}?schema=${schema}`;
}

/**
 * A migrated PostgresStore on `url`, with its pool's connections already open (as the PostgreSQL
 * peers' pools are before their clocks start): the store's default pool of 10 connections.
 */
export async function openPostgresStore(url: string): Promise<PostgresStore> {
  const store = await PostgresStore.open({ url });
  try {
    const connections = await Promise.all(Array.from({ length: store.pool.options.max ?? 10 }, () => store.pool.connect()));
    for (const connection of connections) connection.release();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

/** Runs `use` on a fresh, migrated schema (its URL and an open store on it); drops the schema after. */
export function withOurSchema<T>(use: (url: string, store: PostgresStore) => Promise<T>): Promise<T> {
  return withSchema("ours", async (schema) => {
    const url = schemaUrl(schema);
    const store = await openPostgresStore(url);
    try {
      return await use(url, store);
    } finally {
      await store.close();
    }
  });
}

/** Runs `use` with a QueueClient on a fresh store; the client's pending writes are committed before the store closes. */
function withClient(use: (client: QueueClient) => Promise<number>): Promise<number> {
  return withOurSchema(async (_url, store) => {
    const client = new QueueClient({ store });
    try {
      return await use(client);
    } finally {
      await client.close();
    }
  });
}

/** `await client.enqueue()` one after another. */
export function enqueueAwaited(rows: number): Promise<number> {
  return withClient(async (client) => perSecond(rows, await awaitedCalls(rows, () => client.enqueue("bench", PAYLOAD_OBJECT))));
}

/** `inFlight` enqueue() calls outstanding at all times: the client commits them in shared transactions (group commit). */
export function enqueueConcurrent(rows: number, inFlight: number): Promise<number> {
  return withClient(async (client) => perSecond(rows, await inFlightCalls(rows, inFlight, () => client.enqueue("bench", PAYLOAD_OBJECT))));
}

/** `client.enqueueMany()` with `batch` tasks per call. */
export function enqueueManyBatches(rows: number, batch: number): Promise<number> {
  const items = Array.from({ length: batch }, () => ({ type: "bench", payload: PAYLOAD_OBJECT }));
  return withClient(async (client) => perSecond(rows, await batchedCalls(rows, batch, (size) => client.enqueueMany(items.slice(0, size)))));
}

/** Queues `rows` no-op tasks in batches of 1,000 (not timed). */
export async function fillPostgres(store: PostgresStore, rows: number): Promise<void> {
  const client = new QueueClient({ store });
  const items = Array.from({ length: 1_000 }, () => ({ type: "bench", payload: PAYLOAD_OBJECT }));
  try {
    for (let done = 0; done < rows; done += 1_000) await client.enqueueMany(items.slice(0, Math.min(1_000, rows - done)));
  } finally {
    await client.close();
  }
}

/**
 * `processes` worker processes (each a Worker on a PostgresStore of its own, at `concurrency`)
 * draining `rows` pre-filled no-op tasks; timed as the SQLite variant is, from "go" to the last
 * process's work done, and checked the same way (every task ran exactly once).
 */
export function processMultiProcess(rows: number, processes: number, concurrency: number): Promise<number> {
  return withOurSchema(async (url, store) => {
    await fillPostgres(store, rows);
    return drainInProcesses(url, rows, processes, concurrency);
  });
}
