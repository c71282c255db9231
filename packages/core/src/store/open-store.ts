// A location picks the store: a file path is a SQLite file; a postgres:// or postgresql:// URL is a
// PostgreSQL database, served by the optional @queue/postgres package, loaded only when asked for.
import { createRequire } from "node:module";
import { QueueError } from "../errors.js";
import type { OpenQueueDatabaseOptions } from "../open.js";
import { isServerLocation } from "../paths.js";
import type { QueueStore } from "./port.js";
import { SqliteStore } from "./sqlite-store.js";

/** The package that serves PostgreSQL locations. */
export const POSTGRES_PACKAGE = "@queue/postgres";

/** The URL with its password replaced by `***`, for messages and logs. */
export function redactLocation(location: string): string {
  return location.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

export interface OpenQueueStoreOptions {
  /** A SQLite file path, or a postgres:// / postgresql:// URL (`?schema=NAME` picks the schema). */
  readonly location: string;
  /** For a SQLite file: how to open it (pragmas, clock, busy retry). */
  readonly sqlite?: Omit<OpenQueueDatabaseOptions, "path" | "connection">;
}

interface ServerBackend {
  openStore(options: { readonly url: string }): QueueStore;
}

/** Opens the store a location names; `close()` closes what it opened. */
export function openQueueStore(options: OpenQueueStoreOptions): QueueStore {
  if (!isServerLocation(options.location)) return SqliteStore.open({ ...options.sqlite, path: options.location });
  return loadServerBackend(options.location).openStore({ url: options.location });
}

function loadServerBackend(location: string): ServerBackend {
  let loaded: Partial<ServerBackend>;
  try {
    // require() of an ES module works on every Node.js this package supports (20.19 and later).
    loaded = createRequire(import.meta.url)(POSTGRES_PACKAGE) as Partial<ServerBackend>;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "MODULE_NOT_FOUND";
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
