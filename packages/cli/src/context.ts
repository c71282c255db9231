import { existsSync } from "node:fs";
import { QueueClient } from "@queue/client";
import {
  isServerLocation,
  openQueueDatabase,
  openQueueStore,
  type QueueDatabase,
  type QueueStore,
  redactLocation,
  resolveDatabasePath,
  SqliteStore,
} from "@queue/core";
import pc from "picocolors";
import { UsageError } from "./errors.js";
import { printableValue, terminalSafeJson } from "./terminal-text.js";

/** Options every command accepts. */
export interface GlobalOptions {
  readonly db?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
}

export function databasePath(options: GlobalOptions): string {
  if (options.db !== undefined && options.db.trim() === "") {
    throw new UsageError(
      `--db needs a path; it was given an empty one. Omit --db to use QUEUE_DB_PATH or the default (${resolveDatabasePath()}).`,
    );
  }
  return resolveDatabasePath({ path: options.db });
}

/** Fails when `path` names no file: only `queue init` creates one. */
function assertExists(path: string): void {
  if (path !== ":memory:" && !existsSync(path)) {
    const error = new Error(`No queue database at ${path}.`);
    Object.assign(error, { hint: "create it with `queue init`, or point at one with --db PATH or QUEUE_DB_PATH" });
    throw error;
  }
}

/**
 * The store of the existing queue: a SQLite file (only `queue init` creates one), or for a
 * postgres:// URL that database's store. `close()` closes what it opened.
 */
export function openStore(options: GlobalOptions): QueueStore {
  const location = databasePath(options);
  if (isServerLocation(location)) return openQueueStore({ location });
  assertExists(location);
  return SqliteStore.open({ path: location });
}

/** Runs `work` on the store of the existing queue, closing it afterwards whatever happens. */
export async function withStore<T>(options: GlobalOptions, work: (store: QueueStore) => T | Promise<T>): Promise<T> {
  const store = openStore(options);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Runs `work` with a client on the existing queue, closing both afterwards whatever happens. */
export function withClient<T>(options: GlobalOptions, work: (client: QueueClient) => T | Promise<T>): Promise<T> {
  return withStore(options, async (store) => {
    const client = new QueueClient({ store });
    try {
      return await work(client);
    } finally {
      await client.close();
    }
  });
}

/** The commands that work on a SQLite file itself, and what to use on PostgreSQL instead. */
const ON_POSTGRES_INSTEAD = {
  backup: "back up a PostgreSQL database with pg_dump (or pg_basebackup for the whole server)",
  restore: "restore a pg_dump backup with pg_restore (psql for a plain SQL dump)",
  vacuum: "PostgreSQL's autovacuum runs VACUUM and ANALYZE; run VACUUM (ANALYZE) yourself for a one-off",
  checkpoint: "PostgreSQL checkpoints its WAL on its own (checkpoint_timeout, max_wal_size); CHECKPOINT forces one",
  integrity: "check a PostgreSQL database with the amcheck extension (pg_amcheck)",
  validate: "check a PostgreSQL database with the amcheck extension (pg_amcheck); queue stats shows the queue's health",
  "demo --tour":
    "the tour makes a fresh SQLite file: leave out --db, or give it a new file path (the plain `queue demo` runs on PostgreSQL too)",
} as const;

/** A command that works on a SQLite file itself (backup, vacuum, ...), not on any store. */
export type SqliteFileCommand = keyof typeof ON_POSTGRES_INSTEAD;

/**
 * The SQLite file `command` works on. A database server's URL is refused before anything connects,
 * with a usage error that says what to use there instead.
 */
export function sqliteFilePath(options: GlobalOptions, command: SqliteFileCommand): string {
  const path = databasePath(options);
  if (isServerLocation(path))
    throw new UsageError(
      `queue ${command} only works on a SQLite file; --db names a PostgreSQL database (${redactLocation(path)}).`,
      ON_POSTGRES_INSTEAD[command],
    );
  return path;
}

/** Runs `work` on the existing queue file (a SQLite-only `command`), closing it afterwards whatever happens. */
export async function withDatabase<T>(
  options: GlobalOptions,
  command: SqliteFileCommand,
  work: (db: QueueDatabase) => T | Promise<T>,
): Promise<T> {
  const path = sqliteFilePath(options, command);
  assertExists(path);
  const db = openQueueDatabase({ path });
  try {
    return await work(db);
  } finally {
    db.close();
  }
}

/**
 * Prints `value` as JSON with --json, otherwise the text `render` makes of it. Either way, no
 * string in `value` (task types, payloads, errors, log lines, worker ids) can drive the terminal:
 * text is rendered from a copy whose strings are escaped, and JSON escapes what JSON leaves raw.
 */
export function output<T>(options: GlobalOptions, value: T, render: (value: T) => string): void {
  process.stdout.write(options.json ? `${terminalSafeJson(JSON.stringify(value, null, 2))}\n` : `${render(printableValue(value))}\n`);
}

/**
 * Colour only when the stream is a terminal and NO_COLOR is not set (FORCE_COLOR forces it).
 * picocolors' own default also colours whenever CI is set, even into a pipe.
 */
function colorsFor(stream: NodeJS.WriteStream): ReturnType<typeof pc.createColors> {
  const env = process.env;
  const enabled = env.NO_COLOR === undefined && (env.FORCE_COLOR !== undefined || (stream.isTTY === true && env.TERM !== "dumb"));
  return pc.createColors(enabled);
}

/** Colours for standard output. */
export const color = colorsFor(process.stdout);
/** Colours for standard error (messages and errors). */
export const errorColor = colorsFor(process.stderr);
