// @queue/postgres: the queue's storage port on PostgreSQL. `openQueueStore` in @queue/core loads
// this package for a postgres:// or postgresql:// location and calls `openStore`.
import type { Clock, QueueStore } from "@queue/core";
import { PostgresStore } from "./store.js";

export { enqueueInTransaction, type PostgresEnqueueSettings } from "./enqueue-in-transaction.js";
export { DEFAULT_SCHEMA } from "./location.js";
export { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./migrations/index.js";
export type { PostgresMigration } from "./migrations/migration.js";
export { migratePostgres, POSTGRES_MIGRATIONS_TABLE, readPostgresSchemaVersion } from "./migrations/runner.js";
export { PostgresStore, type PostgresStoreOptions } from "./store.js";
export { workChannel } from "./wakeup.js";

/** The store for a postgres:// URL (what `openQueueStore` calls); it migrates its schema on first use, and `close()` ends its pool. */
export function openStore(options: { readonly url: string; readonly clock?: Clock }): QueueStore {
  return new PostgresStore({ url: options.url, ...(options.clock === undefined ? {} : { clock: options.clock }) });
}
