import { accessSync, closeSync, constants, mkdirSync, openSync, statSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import Database from "better-sqlite3";
import { type BusyRetryPolicy, resolveBusyRetry, retryOnBusySync } from "./busy-retry.js";
import { type Clock, systemClock } from "./clock.js";
import { type CheckpointMode, QueueDatabase } from "./database.js";
import { invalidConfig, QueueError } from "./errors.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./migrations/index.js";
import { assertSchemaNotNewer, readSchemaVersion, runMigrations } from "./migrations/runner.js";
import { isServerLocation, redactLocation, resolveDatabasePath } from "./paths.js";
import { applyPragmas, type PragmaSettings, resolvePragmas } from "./pragmas.js";
import { toQueueError } from "./sqlite-errors.js";

export interface OpenQueueDatabaseOptions {
  /** The database file. Default: `QUEUE_DB_PATH`, else the per-user data directory. */
  readonly path?: string;
  /**
   * An open better-sqlite3 connection to use instead of opening one (for an application that
   * shares its SQLite file with the queue). It is configured and migrated, but never closed by
   * the queue.
   */
  readonly connection?: BetterSqlite3.Database;
  /** Overrides for PRODUCTION_PRAGMAS. */
  readonly pragmas?: Partial<PragmaSettings>;
  readonly clock?: Clock;
  /** Open without writing anything: no PRAGMA changes, no migrations, writes fail with READ_ONLY. */
  readonly readonly?: boolean;
  readonly busyRetry?: Partial<BusyRetryPolicy>;
  /** Permissions of a database file the queue creates. Default 0o600 (owner only). */
  readonly fileMode?: number;
  /** Run pending migrations when opening (default true). */
  readonly migrate?: boolean;
  /**
   * Where WAL checkpoints (copying committed pages into the database file) run. "background"
   * (default): once this connection has committed a few dozen write transactions, a thread of its
   * own does most of that work as commits come, so commits on this thread stay short; it never
   * keeps the process alive. The connection's own automatic checkpoint then runs at four times
   * `pragmas.walAutocheckpointPages` and finds little left to copy; it keeps the WAL bounded.
   * "inline": only SQLite's automatic checkpoint, inside the commit that crosses
   * `pragmas.walAutocheckpointPages`. Neither changes what is durable.
   */
  readonly checkpoints?: CheckpointMode;
}

const OPTION_NAMES: readonly string[] = [
  "path",
  "connection",
  "pragmas",
  "clock",
  "readonly",
  "busyRetry",
  "fileMode",
  "migrate",
  "checkpoints",
] satisfies (keyof OpenQueueDatabaseOptions)[];

const DEFAULT_FILE_MODE = 0o600;

/**
 * Opens (creating if needed) the queue database, applies the PRAGMAs and brings the schema up to
 * date. Every failure is a `QueueError` that names the file and says what to do; a file that is
 * not a queue database this code can use is never written to.
 */
export function openQueueDatabase(options: OpenQueueDatabaseOptions = {}): QueueDatabase {
  const settings = validateOptions(options);
  const external = options.connection;
  const path = external === undefined ? resolveDatabasePath({ path: options.path }) : external.name;
  if (isServerLocation(path)) {
    // Never a file named "postgres:": a server's URL is opened as a store, by the backend that serves it.
    throw new QueueError(
      "INVALID_CONFIG",
      `${redactLocation(path)} is a PostgreSQL URL, not a SQLite file. Open it with openQueueStore({ location }) or give it as \`url\` to QueueClient, Worker or QueuedTaskManager; openQueueDatabase opens SQLite files only.`,
      { details: { option: "path" } },
    );
  }
  if (external === undefined) preparePath(path, settings.readonly, settings.fileMode);

  let connection: BetterSqlite3.Database;
  try {
    connection = external ?? new Database(path, { readonly: settings.readonly, fileMustExist: path !== ":memory:" });
  } catch (error) {
    throw toQueueError(error, path, "opening the file");
  }
  const readonly = settings.readonly || connection.readonly;
  try {
    configure(connection, path, readonly, settings);
  } catch (error) {
    if (external === undefined) connection.close();
    throw toQueueError(error, path, "opening the database");
  }
  return new QueueDatabase({
    connection,
    ownsConnection: external === undefined,
    path,
    clock: settings.clock,
    readonly,
    pragmas: settings.pragmas,
    busyRetry: settings.busyRetry,
    checkpoints: settings.checkpoints,
  });
}

interface ResolvedOptions {
  readonly pragmas: PragmaSettings;
  readonly clock: Clock;
  readonly readonly: boolean;
  readonly busyRetry: BusyRetryPolicy;
  readonly fileMode: number;
  readonly migrate: boolean;
  readonly checkpoints: CheckpointMode;
}

function validateOptions(options: OpenQueueDatabaseOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) invalidConfig("options", options, "an options object");
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key))
      invalidConfig(`option ${JSON.stringify(key)}`, "(unknown option)", `one of ${OPTION_NAMES.join(", ")}`);
  }
  if (options.path !== undefined && (typeof options.path !== "string" || options.path.trim() === "")) {
    invalidConfig("path", options.path, "a non-empty file path");
  }
  if (options.connection !== undefined) {
    if (options.path !== undefined) invalidConfig("connection", "(given with path)", "either path or connection, not both");
    const connection = options.connection as Partial<BetterSqlite3.Database> | null;
    if (typeof connection?.prepare !== "function" || typeof connection.pragma !== "function") {
      invalidConfig("connection", options.connection, "an open better-sqlite3 Database");
    }
    if (!connection.open) invalidConfig("connection", "(a closed connection)", "an open better-sqlite3 Database");
  }
  if (options.clock !== undefined && typeof (options.clock as Partial<Clock>)?.now !== "function") {
    invalidConfig("clock", options.clock, "an object with a now() method returning epoch milliseconds");
  }
  for (const flag of ["readonly", "migrate"] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== "boolean") invalidConfig(flag, options[flag], "true or false");
  }
  if (options.checkpoints !== undefined && options.checkpoints !== "background" && options.checkpoints !== "inline") {
    invalidConfig("checkpoints", options.checkpoints, '"background" or "inline"');
  }
  const fileMode = options.fileMode ?? DEFAULT_FILE_MODE;
  if (!Number.isInteger(fileMode) || fileMode < 0 || fileMode > 0o777)
    invalidConfig("fileMode", fileMode, "a permission mode from 0o000 to 0o777");
  return {
    pragmas: resolvePragmas(options.pragmas),
    clock: options.clock ?? systemClock,
    readonly: options.readonly ?? false,
    busyRetry: resolveBusyRetry(options.busyRetry),
    fileMode,
    migrate: options.migrate ?? true,
    checkpoints: options.checkpoints ?? "background",
  };
}

/** Checks the path before SQLite sees it, and creates a missing file with owner-only permissions. */
/**
 * True when a component of the directory of `path` exists but is not a directory. (Node.js 20's
 * statSync reports that as ENOTDIR; from Node.js 22 on it is "no entry", like a missing file.)
 */
function directoryBlockedByFile(path: string): boolean {
  for (let directory = dirname(path); ; directory = dirname(directory)) {
    let stats: ReturnType<typeof statSync> | undefined;
    try {
      stats = statSync(directory, { throwIfNoEntry: false });
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ENOTDIR";
    }
    if (stats !== undefined) return !stats.isDirectory();
    if (dirname(directory) === directory) return false;
  }
}

function preparePath(path: string, readonly: boolean, fileMode: number): void {
  if (path === ":memory:") return;
  let stats: ReturnType<typeof statSync> | undefined;
  try {
    stats = statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOTDIR" ? "a part of the path that should be a directory is a file" : (error as Error).message;
    throw new QueueError(
      "CANNOT_OPEN",
      `Cannot use ${path} for the queue database: ${reason}. Choose a path inside an existing or creatable directory.`,
      {
        cause: error,
        path,
      },
    );
  }
  if (stats === undefined && directoryBlockedByFile(path)) {
    throw new QueueError(
      "CANNOT_OPEN",
      `Cannot use ${path} for the queue database: a part of the path that should be a directory is a file. Choose a path inside an existing or creatable directory.`,
      { path },
    );
  }
  if (stats?.isDirectory()) {
    throw new QueueError(
      "CANNOT_OPEN",
      `The queue database path ${path} is a directory. Give the path of a file, such as ${path}/queue.db.`,
      { path },
    );
  }
  if (stats !== undefined) {
    if (!readonly && !isWritable(path)) {
      throw new QueueError(
        "READ_ONLY",
        `The queue database ${path} is read-only for this process. Fix its permissions, or open it with readonly: true to inspect it.`,
        { path },
      );
    }
    return;
  }
  if (readonly) {
    throw new QueueError(
      "CANNOT_OPEN",
      `The queue database ${path} does not exist, and a read-only open cannot create it. Check the path, or open it writable once to create it.`,
      { path },
    );
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "wx", fileMode));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return; // another process created it first
    const reason = (error as Error).message;
    const code =
      (error as NodeJS.ErrnoException).code === "EROFS" || (error as NodeJS.ErrnoException).code === "EACCES" ? "READ_ONLY" : "CANNOT_OPEN";
    throw new QueueError(
      code,
      `Cannot create the queue database ${path}: ${reason}. Check that the directory can be created and written, or choose another path.`,
      {
        cause: error,
        path,
      },
    );
  }
}

function isWritable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Order matters: read first (which fails on a file that is not a database), refuse a newer schema,
 * and only then change PRAGMAs and migrate, so a file the queue cannot use is never written.
 */
function configure(connection: BetterSqlite3.Database, path: string, readonly: boolean, settings: ResolvedOptions): void {
  connection.pragma(`busy_timeout = ${settings.pragmas.busyTimeoutMs}`);
  const version = retryOnBusySync(settings.busyRetry, path, () => readSchemaVersion(connection));
  assertSchemaNotNewer(version, path);
  // auto_vacuum can only be chosen while the file is empty (even switching to WAL writes a page):
  // new files get INCREMENTAL, so maintenance can return free pages to the OS without a full VACUUM.
  if (!readonly && settings.migrate && connection.pragma("page_count", { simple: true }) === 0) {
    connection.pragma("auto_vacuum = INCREMENTAL");
  }
  applyPragmas(connection, settings.pragmas, readonly);
  if (readonly || !settings.migrate) {
    if (readonly && version < SCHEMA_VERSION) {
      throw new QueueError(
        "SCHEMA_OUTDATED",
        `The queue database ${path} is at schema version ${version} and needs migrating to ${SCHEMA_VERSION}, which a read-only open cannot do. Open it writable once (for example with \`queue init\`).`,
        { path, details: { databaseVersion: version, codeVersion: SCHEMA_VERSION } },
      );
    }
    return;
  }
  if (version === SCHEMA_VERSION) return;
  runMigrations(
    connection,
    MIGRATIONS,
    () => settings.clock.now(),
    (work) => retryOnBusySync(settings.busyRetry, path, () => connection.transaction(work).immediate()),
  );
}
