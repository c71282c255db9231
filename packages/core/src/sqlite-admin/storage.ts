// The SQLite file's own upkeep: WAL checkpoints, page statistics, vacuum and planner statistics.
// SQLite-only operations on one connection (a SqliteStore's `db`); PostgreSQL has its own tools.
import type { QueueDatabase } from "../database.js";
import { QueueError } from "../errors.js";
import { databaseFileSizes } from "../store/sqlite-store.js";

export type WalCheckpointMode = "PASSIVE" | "FULL" | "RESTART" | "TRUNCATE";

export interface WalCheckpointResult {
  readonly mode: WalCheckpointMode;
  /** True when a reader or writer prevented a complete checkpoint (try again later). */
  readonly busy: boolean;
  /** Frames in the WAL, and how many of them are now in the database file. */
  readonly walFrames: number;
  readonly checkpointedFrames: number;
  /** The WAL file's size once the checkpoint is done (TRUNCATE empties it when it is not busy). */
  readonly walBytes: number;
}

export interface WalCheckpointOptions {
  /**
   * The longest a FULL, RESTART or TRUNCATE checkpoint waits for readers and writers. While it
   * waits it holds the write lock, so this bounds how long writers stall; when the time is up it
   * gives up with `busy: true` and changes nothing more. Default {@link DEFAULT_CHECKPOINT_MAX_WAIT_MS}.
   */
  readonly maxWaitMs?: number;
}

/** How long a blocking checkpoint may hold up writers, by default. */
export const DEFAULT_CHECKPOINT_MAX_WAIT_MS = 200;

const CHECKPOINT_MODES: readonly WalCheckpointMode[] = ["PASSIVE", "FULL", "RESTART", "TRUNCATE"];

/**
 * Copies the WAL back into the database file; TRUNCATE also shrinks the WAL file to zero. PASSIVE
 * never waits and never blocks anyone. The other modes first copy what they can the same way, then
 * wait at most `maxWaitMs` for readers still on old pages (a long report, a backup) while holding
 * the write lock: a reader that outlasts the bound leaves the checkpoint `busy`, never stalls the
 * writers for the connection's whole busy timeout.
 */
export function checkpointWal(
  db: QueueDatabase,
  mode: WalCheckpointMode = "PASSIVE",
  options: WalCheckpointOptions = {},
): WalCheckpointResult {
  if (!CHECKPOINT_MODES.includes(mode)) {
    throw new QueueError("INVALID_ARGUMENT", `Checkpoint mode must be PASSIVE, FULL, RESTART or TRUNCATE; got ${String(mode)}.`);
  }
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_CHECKPOINT_MAX_WAIT_MS;
  if (!Number.isInteger(maxWaitMs) || maxWaitMs < 0)
    throw new QueueError("INVALID_ARGUMENT", `Checkpoint maxWaitMs must be a whole number of milliseconds >= 0; got ${String(maxWaitMs)}.`);
  const run = (which: WalCheckpointMode) => {
    const [row] = db.connection.pragma(`wal_checkpoint(${which})`) as { busy: number; log: number; checkpointed: number }[];
    if (row === undefined) throw new QueueError("SQLITE_ERROR", `wal_checkpoint(${which}) returned nothing for ${db.path}.`);
    return row;
  };
  let row = run("PASSIVE");
  if (mode !== "PASSIVE") {
    const configured = db.connection.pragma("busy_timeout", { simple: true }) as number;
    db.connection.pragma(`busy_timeout = ${maxWaitMs}`);
    try {
      row = run(mode);
    } finally {
      db.connection.pragma(`busy_timeout = ${configured}`);
    }
  }
  const walBytes = databaseFileSizes(db.path)?.walBytes ?? 0;
  return { mode, busy: row.busy === 1, walFrames: row.log, checkpointedFrames: row.checkpointed, walBytes };
}

export interface DatabaseStats {
  readonly pageSize: number;
  readonly pageCount: number;
  readonly freelistCount: number;
  readonly autoVacuum: "none" | "full" | "incremental";
  readonly fileBytes: number;
  readonly walBytes: number;
}

/** The file's page size, page and free-page counts, auto-vacuum mode, and the sizes of the file and its WAL. */
export function databaseStats(db: QueueDatabase): DatabaseStats {
  const pragma = (name: string) => db.connection.pragma(name, { simple: true }) as number;
  const sizes = databaseFileSizes(db.path) ?? { bytes: 0, walBytes: 0 };
  return {
    pageSize: pragma("page_size"),
    pageCount: pragma("page_count"),
    freelistCount: pragma("freelist_count"),
    autoVacuum: (["none", "full", "incremental"] as const)[pragma("auto_vacuum")] ?? "none",
    fileBytes: sizes.bytes,
    walBytes: sizes.walBytes,
  };
}

/**
 * Rebuilds the file without free pages (and switches it to incremental auto-vacuum if it is not
 * already). Needs exclusive use of the write lock for its whole run: prefer `incrementalVacuum`
 * while workers run.
 */
export function vacuum(db: QueueDatabase): { readonly before: DatabaseStats; readonly after: DatabaseStats } {
  const before = databaseStats(db);
  if (before.autoVacuum !== "incremental") db.connection.pragma("auto_vacuum = INCREMENTAL");
  db.connection.exec("VACUUM");
  return { before, after: databaseStats(db) };
}

/** Returns up to `pages` free pages (all, by default) to the operating system, in one short transaction. */
export async function incrementalVacuum(db: QueueDatabase, pages?: number): Promise<{ readonly freedPages: number }> {
  const before = databaseStats(db).freelistCount;
  if (databaseStats(db).autoVacuum !== "incremental") {
    throw new QueueError(
      "INVALID_STATE",
      `The queue database ${db.path} does not use incremental auto-vacuum; run vacuum() once to switch it.`,
    );
  }
  await db.transaction((tx) =>
    tx.connection.pragma(`incremental_vacuum${pages === undefined ? "" : `(${Math.max(0, Math.floor(pages))})`}`),
  );
  return { freedPages: before - databaseStats(db).freelistCount };
}

/** Refreshes the query planner's statistics (PRAGMA optimize, or a full ANALYZE). */
export function optimize(db: QueueDatabase, options: { readonly analyze?: boolean } = {}): void {
  db.connection.exec(options.analyze ? "ANALYZE" : "PRAGMA optimize");
}
