import type BetterSqlite3 from "better-sqlite3";
import { QueueError } from "../errors.js";
import { SCHEMA_VERSION } from "./index.js";
import type { Migration } from "./migration.js";

export const MIGRATIONS_TABLE = "queue_migrations";

const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
) STRICT`;

/** The highest migration recorded in the file; 0 for a file the queue has never written. */
export function readSchemaVersion(connection: BetterSqlite3.Database): number {
  const table = connection.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").get(MIGRATIONS_TABLE);
  if (table === undefined) return 0;
  const row = connection.prepare(`SELECT max(version) AS version FROM ${MIGRATIONS_TABLE}`).get() as {
    version: number | null;
  };
  return row.version ?? 0;
}

/** Refuses a file written by a newer schema, before anything is written to it. */
export function assertSchemaNotNewer(version: number, path: string): void {
  if (version > SCHEMA_VERSION) {
    throw new QueueError(
      "SCHEMA_TOO_NEW",
      `The queue database ${path} has schema version ${version}, but this version of @queue/core knows only up to ${SCHEMA_VERSION}. Upgrade @queue/* to a release that knows schema ${version}; the file was left untouched.`,
      { path, details: { databaseVersion: version, codeVersion: SCHEMA_VERSION } },
    );
  }
}

/**
 * Applies pending migrations, each in its own BEGIN IMMEDIATE transaction. The version is read
 * again inside each transaction, so two processes migrating the same file at once both succeed:
 * the second finds the work done and skips it.
 */
export function runMigrations(
  connection: BetterSqlite3.Database,
  migrations: readonly Migration[],
  now: () => number,
  inTransaction: (work: () => void) => void,
): { from: number; to: number } {
  const from = readSchemaVersion(connection);
  for (const migration of migrations) {
    if (migration.version <= from) continue;
    inTransaction(() => {
      const current = readSchemaVersion(connection);
      if (migration.version <= current) return;
      if (migration.version !== current + 1) {
        throw new QueueError(
          "SCHEMA_OUTDATED",
          `Cannot apply migration ${migration.version} (${migration.name}): the database is at version ${current}.`,
        );
      }
      connection.exec(CREATE_MIGRATIONS_TABLE);
      connection.exec(migration.sql);
      connection
        .prepare(`INSERT INTO ${MIGRATIONS_TABLE} (version, name, applied_at) VALUES (?, ?, ?)`)
        .run(migration.version, migration.name, now());
    });
  }
  return { from, to: readSchemaVersion(connection) };
}
