// Applies the numbered migrations to the store's schema. Each runs in its own transaction under a
// transaction-level advisory lock keyed by the schema, so two processes migrating at once take
// turns: the second reads the version again under the lock and finds the work done. A schema
// written by newer code is refused before anything is written.
import { QueueError } from "@queue/core";
import type pg from "pg";
import { type Db, inTransaction, onPool } from "../db.js";
import { quoteIdentifier } from "../location.js";
import { POSTGRES_MIGRATIONS, POSTGRES_SCHEMA_VERSION } from "./index.js";
import type { PostgresMigration } from "./migration.js";

export const POSTGRES_MIGRATIONS_TABLE = "queue_migrations";

interface Target {
  readonly pool: pg.Pool;
  /** The schema's name, unquoted. */
  readonly schema: string;
  readonly location: string;
  readonly now: () => number;
}

/** The highest migration recorded in the schema; 0 when the queue has never written it. */
export async function readPostgresSchemaVersion(target: Pick<Target, "pool" | "schema" | "location">): Promise<number> {
  return onPool(target.pool, quoteIdentifier(target.schema), target.location, async (db) => {
    const [row] = await db.rows<{ version: number | null }>(`SELECT CASE WHEN to_regclass($1) IS NULL THEN 0 ELSE NULL END AS version`, [
      `${db.schema}.${POSTGRES_MIGRATIONS_TABLE}`,
    ]);
    if (row?.version === 0) return 0;
    const [recorded] = await db.rows<{ version: number | null }>(
      `SELECT max(version)::bigint AS version FROM ${db.schema}.${POSTGRES_MIGRATIONS_TABLE}`,
    );
    return recorded?.version ?? 0;
  });
}

function schemaTooNew(version: number, location: string): QueueError {
  return new QueueError(
    "SCHEMA_TOO_NEW",
    `The queue schema at ${location} has version ${version}, but this version of @queue/postgres knows only up to ${POSTGRES_SCHEMA_VERSION}. Upgrade @queue/* to a release that knows schema ${version}; the schema was left untouched.`,
    { path: location, details: { databaseVersion: version, codeVersion: POSTGRES_SCHEMA_VERSION } },
  );
}

/** Brings the schema up to this code's version (creating it if needed); refuses a newer one. */
export async function migratePostgres(
  target: Target,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<{ from: number; to: number }> {
  const from = await readPostgresSchemaVersion(target);
  const newest = migrations.at(-1)?.version ?? 0;
  if (from > newest) throw schemaTooNew(from, target.location);
  let to = from;
  for (const migration of migrations) {
    if (migration.version <= to) continue;
    to = await inTransaction(target.pool, quoteIdentifier(target.schema), target.location, async (db) => {
      await db.rows("SELECT pg_advisory_xact_lock(hashtext($1))", [`@queue/postgres migrate ${target.schema}`]);
      const current = await readVersionLocked(db);
      if (current > newest) throw schemaTooNew(current, target.location);
      if (migration.version <= current) return current;
      if (migration.version !== current + 1) {
        throw new QueueError(
          "SCHEMA_OUTDATED",
          `Cannot apply migration ${migration.version} (${migration.name}) to ${target.location}: the schema is at version ${current}.`,
        );
      }
      await db.rows(`SET LOCAL search_path TO ${db.schema}`);
      await db.rows(migration.sql);
      await db.rows(`INSERT INTO ${db.schema}.${POSTGRES_MIGRATIONS_TABLE} (version, name, applied_at) VALUES ($1, $2, $3)`, [
        migration.version,
        migration.name,
        target.now(),
      ]);
      return migration.version;
    });
  }
  return { from, to };
}

/** Creates the schema and its migrations table if missing (under the lock), and reads the version. */
async function readVersionLocked(db: Db): Promise<number> {
  const schema = db.schema;
  await db.rows(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await db.rows(
    `CREATE TABLE IF NOT EXISTS ${schema}.${POSTGRES_MIGRATIONS_TABLE} (
       version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`,
  );
  const [row] = await db.rows<{ version: number | null }>(
    `SELECT max(version)::bigint AS version FROM ${schema}.${POSTGRES_MIGRATIONS_TABLE}`,
  );
  return row?.version ?? 0;
}
