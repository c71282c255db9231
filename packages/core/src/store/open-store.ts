// A location picks the store: a file path is a SQLite file; a postgres:// or postgresql:// URL is a
// PostgreSQL database, served by the optional @queue/postgres package, loaded only when asked for.
import { realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { Clock } from "../clock.js";
import type { QueueDatabase } from "../database.js";
import type { DatabaseThread } from "../database-thread.js";
import { QueueError } from "../errors.js";
import { type OpenQueueDatabaseOptions, openQueueDatabase } from "../open.js";
import { isServerLocation, redactLocation, resolveDatabasePath } from "../paths.js";
import type { QueueStore } from "./port.js";
import { SqliteStore } from "./sqlite-store.js";

/** The package that serves PostgreSQL locations. */
export const POSTGRES_PACKAGE = "@queue/postgres";

export { redactLocation } from "../paths.js";

export interface OpenQueueStoreOptions {
  /** A SQLite file path, or a postgres:// / postgresql:// URL (`?schema=NAME` picks the schema). */
  readonly location: string;
  /** For a SQLite file: how to open it (pragmas, clock, busy retry). */
  readonly sqlite?: Omit<OpenQueueDatabaseOptions, "path" | "connection">;
  /** The clock the store writes times with, on either backend (for SQLite, `sqlite.clock` wins). Default: the system clock. */
  readonly clock?: Clock;
}

interface ServerBackend {
  openStore(options: { readonly url: string; readonly clock?: Clock }): QueueStore;
}

/** Opens the store a location names; `close()` closes what it opened. */
export function openQueueStore(options: OpenQueueStoreOptions): QueueStore {
  if (!isServerLocation(options.location)) {
    const clock = options.sqlite?.clock ?? options.clock;
    return SqliteStore.open({ ...options.sqlite, ...(clock === undefined ? {} : { clock }), path: options.location });
  }
  return loadServerBackend(options.location).openStore({
    url: options.location,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
}

/** A store's location as library options give it: a `url` (a database server's) or a `path` (a SQLite file, or a server URL too). */
export interface StoreLocationOptions {
  readonly url?: string | undefined;
  readonly path?: string | undefined;
}

/**
 * The location `url` or `path` names, else `QUEUE_DB_PATH`, else the per-user SQLite file (see
 * `resolveDatabasePath`); a postgres:// URL is returned as it is, whichever option carries it.
 * INVALID_CONFIG when both are given, or when `url` is not a database server's URL. `owner` names
 * the class whose options these are, for the message.
 */
export function resolveStoreLocation(options: StoreLocationOptions, owner: string): string {
  if (options.url !== undefined && options.path !== undefined) {
    throw new QueueError(
      "INVALID_CONFIG",
      `Give ${owner} either url or path, not both: url names a PostgreSQL database, path a SQLite file (or a PostgreSQL URL too).`,
      { details: { option: "url" } },
    );
  }
  if (options.url !== undefined && (typeof options.url !== "string" || !isServerLocation(options.url))) {
    throw new QueueError(
      "INVALID_CONFIG",
      `${owner}'s url must be a postgres:// or postgresql:// URL; got ${JSON.stringify(redactLocation(String(options.url)))}. Give a SQLite file as path instead.`,
      { details: { option: "url" } },
    );
  }
  return resolveDatabasePath({ path: options.url ?? options.path });
}

/** How a client or worker names its store when it is not handed one: an open SQLite database, or a location. */
export interface StoreSourceOptions extends StoreLocationOptions {
  /** An open SQLite database, served as it is (left open). */
  readonly db?: QueueDatabase | undefined;
  /** How to open a SQLite file (its clock is also a server store's). */
  readonly open?: Omit<OpenQueueDatabaseOptions, "path" | "connection"> | undefined;
  /** A thread serving the SQLite store's thread ops on its own connection; SQLite only. */
  readonly databaseThread?: DatabaseThread | undefined;
}

/**
 * The store `options` name: a SqliteStore on `db` (`opened` false: the caller leaves `db` open),
 * else the store opened for `url` or `path` (see resolveStoreLocation): PostgreSQL for a URL, else
 * the SQLite file (`opened` true: closing the store closes it). A database thread with a server
 * URL is INVALID_CONFIG. `owner` names the class whose options these are, for messages.
 */
export function storeFromOptions(options: StoreSourceOptions, owner: string): { readonly store: QueueStore; readonly opened: boolean } {
  const thread = options.databaseThread === undefined ? {} : { thread: options.databaseThread };
  if (options.db !== undefined) return { store: new SqliteStore(options.db, thread), opened: false };
  const location = resolveStoreLocation(options, owner);
  if (isServerLocation(location)) {
    if (options.databaseThread !== undefined)
      throw new QueueError("INVALID_CONFIG", `databaseThread serves a SQLite file; ${owner} was given a PostgreSQL URL.`, {
        details: { option: "databaseThread" },
      });
    const clock = options.open?.clock;
    return { store: openQueueStore({ location, ...(clock === undefined ? {} : { clock }) }), opened: true };
  }
  const db = openQueueDatabase({ ...options.open, path: location });
  return { store: new SqliteStore(db, { ...thread, ownsDatabase: true }), opened: true };
}

/**
 * Where @queue/postgres is looked for, in order: beside this package (a flat node_modules, or a
 * package that declares it), then from the application: its working directory and its main
 * script's directory. Under pnpm's strict layout @queue/core sees only what it declares, and it
 * does not declare the optional backend: the application (or the CLI) that installed it does.
 */
export function serverBackendSearchPaths(): string[] {
  const paths = [import.meta.url, join(process.cwd(), "noop.js")];
  const main = process.argv[1];
  if (typeof main === "string" && main !== "") {
    paths.push(join(dirname(main), "noop.js"));
    // A bin on PATH is often a link (npm's global bin): the package it belongs to is where it points.
    try {
      const real = realpathSync(main);
      if (real !== main) paths.push(join(dirname(real), "noop.js"));
    } catch {
      // The script is gone or unreadable: the other places are looked at all the same.
    }
  }
  return paths;
}

function requireServerBackend(): Partial<ServerBackend> {
  let firstMissing: unknown;
  for (const from of serverBackendSearchPaths()) {
    try {
      // require() of an ES module works on every Node.js this package supports (20.19 and later).
      return createRequire(from)(POSTGRES_PACKAGE) as Partial<ServerBackend>;
    } catch (error) {
      if (!isMissing(error)) throw error;
      firstMissing ??= error;
    }
  }
  throw firstMissing;
}

/** True when the error says the backend package itself is not installed (not that something it imports is broken). */
function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") && (error as Error).message.includes(`'${POSTGRES_PACKAGE}'`);
}

function loadServerBackend(location: string): ServerBackend {
  let loaded: Partial<ServerBackend>;
  try {
    loaded = requireServerBackend();
  } catch (error) {
    const missing = isMissing(error);
    throw new QueueError(
      "INVALID_CONFIG",
      missing
        ? `${redactLocation(location)} is a PostgreSQL URL, and ${POSTGRES_PACKAGE} is not installed. Install it beside the other @queue packages (npm install ${POSTGRES_PACKAGE}) to use PostgreSQL, or give a file path to use SQLite.`
        : `${POSTGRES_PACKAGE} could not be loaded for ${redactLocation(location)}: ${(error as Error).message}`,
      { cause: error, details: { package: POSTGRES_PACKAGE } },
    );
  }
  if (typeof loaded.openStore !== "function")
    throw new QueueError("INVALID_CONFIG", `${POSTGRES_PACKAGE} does not export openStore(); install a version that matches @queue/core.`);
  return loaded as ServerBackend;
}
