import { existsSync } from "node:fs";
import { QueueClient } from "@queue/client";
import {
  isServerLocation,
  openQueueDatabase,
  openQueueStore,
  type QueueDatabase,
  type QueueStore,
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

/** Opens an existing queue file (bringing its schema up to date); only `queue init` creates one. */
export function openExisting(options: GlobalOptions): QueueDatabase {
  const path = databasePath(options);
  if (isServerLocation(path)) {
    // Commands that need the file itself (backup, vacuum, checkpoint, integrity) are SQLite's own.
    throw new UsageError(
      "This command works on a SQLite file; --db names a PostgreSQL database.",
      "use PostgreSQL's own tools for it (pg_dump for a backup, VACUUM and ANALYZE for upkeep)",
    );
  }
  if (path !== ":memory:" && !existsSync(path)) {
    const error = new Error(`No queue database at ${path}.`);
    Object.assign(error, { hint: "create it with `queue init`, or point at one with --db PATH or QUEUE_DB_PATH" });
    throw error;
  }
  return openQueueDatabase({ path });
}

/**
 * The store of the existing queue (only `queue init` creates a SQLite file); a postgres:// URL opens
 * that database's store. `close()` closes what it opened.
 */
export function openStore(options: GlobalOptions): QueueStore {
  const location = databasePath(options);
  if (isServerLocation(location)) return openQueueStore({ location });
  return new SqliteStore(openExisting(options), { ownsDatabase: true });
}

/** Runs `work` with a client on the existing queue, closing both afterwards whatever happens. */
export async function withClient<T>(options: GlobalOptions, work: (client: QueueClient) => T | Promise<T>): Promise<T> {
  const store = openStore(options);
  const client = new QueueClient({ store });
  try {
    return await work(client);
  } finally {
    await client.close();
    await store.close();
  }
}

/** Runs `work` on the existing queue file, closing it afterwards whatever happens. */
export async function withDatabase<T>(options: GlobalOptions, work: (db: QueueDatabase) => T | Promise<T>): Promise<T> {
  const db = openExisting(options);
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
