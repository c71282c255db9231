// Read-only looks at a SQLite connection and probes that write only inside transactions rolled
// back: what a validator of the file needs, and nothing above core has to say in SQL.
import { performance } from "node:perf_hooks";
import type { QueueDatabase } from "../database.js";

/** The names of the tables in the file. */
export function listTables(db: QueueDatabase): string[] {
  return db
    .statement<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'")
    .all()
    .map((row) => row.name);
}

/** The file's journal mode as SQLite names it (`wal`, `delete`, ...): a property of the file. */
export function readJournalMode(db: QueueDatabase): string {
  return String(db.connection.pragma("journal_mode", { simple: true }));
}

/** Settings that belong to this connection, not to the file. */
export interface ConnectionSettings {
  readonly foreignKeys: boolean;
  /** PRAGMA synchronous as a number: 0 off, 1 normal, 2 full, 3 extra. */
  readonly synchronous: number;
  readonly busyTimeoutMs: number;
}

export function readConnectionSettings(db: QueueDatabase): ConnectionSettings {
  const value = (name: string) => db.connection.pragma(name, { simple: true }) as number;
  return { foreignKeys: value("foreign_keys") === 1, synchronous: value("synchronous"), busyTimeoutMs: value("busy_timeout") };
}

class RollBack extends Error {}

/**
 * Runs `fn` in a write transaction that is always rolled back, and returns what it returned: a
 * probe can write, look, and leave the file as it was. An error `fn` throws propagates.
 */
export function inRolledBackTransaction<T>(db: QueueDatabase, fn: (tx: QueueDatabase) => T): T {
  let result: { value: T } | undefined;
  try {
    db.transactionSync((tx) => {
      result = { value: fn(tx) };
      throw new RollBack();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  return (result as { value: T }).value;
}

/**
 * Tries to store a task with a status the schema forbids, in a transaction that is rolled back.
 * Returns the error that refused it (a QueueError with code CONSTRAINT when errors are classified
 * as they should be), or undefined when the row was accepted: the status CHECK constraint is gone.
 */
export function probeStatusConstraint(writer: QueueDatabase): unknown {
  try {
    inRolledBackTransaction(writer, (tx) =>
      tx
        .statement(
          "INSERT INTO tasks (type, status, run_after, created_at, updated_at) VALUES ('queue-validation', 'no-such-status', 0, 0, 0)",
        )
        .run(),
    );
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Single-row statement rates, per second. */
export interface StatementRates {
  readonly insertsPerSecond: number;
  readonly selectsPerSecond: number;
  readonly updatesPerSecond: number;
}

/**
 * Times `rows` single-row inserts (each its own transaction), selects by id and updates (each its
 * own transaction). It writes `rows` tasks: run it on a scratch database, never on a queue in use.
 */
export function measureStatementRates(db: QueueDatabase, rows: number): StatementRates {
  const rate = (work: (n: number) => void) => {
    const started = performance.now();
    for (let n = 0; n < rows; n++) work(n);
    return Math.round((rows / (performance.now() - started)) * 1000);
  };
  const insert = db.statement("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('perf', '{}', 0, 0, 0)");
  const select = db.statement("SELECT id, payload FROM tasks WHERE id = ?");
  const update = db.statement("UPDATE tasks SET progress = ?, updated_at = ? WHERE id = ?");
  return {
    insertsPerSecond: rate(() => db.transactionSync(() => insert.run())),
    selectsPerSecond: rate((n) => select.get(n + 1)),
    updatesPerSecond: rate((n) => db.transactionSync(() => update.run(n, n, n + 1))),
  };
}
