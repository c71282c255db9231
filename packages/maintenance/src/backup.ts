import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, realpathSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  countTasks,
  fileError,
  fsyncDirectory,
  integrityCheck,
  listWorkers,
  openQueueDatabase,
  type QueueDatabase,
  QueueError,
  SCHEMA_VERSION,
  toQueueError,
} from "@queue/core";
import Database from "better-sqlite3";

export interface BackupResult {
  readonly file: string;
  readonly bytes: number;
  readonly pages: number;
  readonly durationMs: number;
}

/**
 * Copies the live database to `destination` with SQLite's online backup API, a few pages at a time,
 * while workers keep running (never a plain file copy, which can capture a torn WAL database). The
 * copy is written under a `.partial` name beside the destination, owner-only (0600) from creation,
 * verified, and only then linked to its final name: a crash mid-backup leaves a `.partial` file,
 * never a file under a backup's name that is not a complete, verified backup.
 */
export async function backup(
  db: QueueDatabase,
  destination: string,
  options: { readonly onProgress?: (done: number, total: number) => void } = {},
): Promise<BackupResult> {
  mkdirSync(dirname(destination), { recursive: true, mode: 0o700 });
  if (existsSync(destination)) throw destinationExists(destination);
  const partial = `${destination}.${randomBytes(4).toString("hex")}.partial`;
  try {
    // Created empty and owner-only before any data goes in.
    closeSync(openSync(partial, "wx", 0o600));
  } catch (error) {
    throw new QueueError("CANNOT_OPEN", `Cannot create the backup file ${partial}: ${(error as Error).message}.`, { cause: error });
  }
  const started = Date.now();
  let pages = 0;
  try {
    await db.connection.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        pages = totalPages;
        options.onProgress?.(totalPages - remainingPages, totalPages);
        return 200;
      },
    });
  } catch (error) {
    removeDatabaseFiles(partial);
    throw toQueueError(error, db.path, `backing up to ${destination}`);
  }
  const verified = verifyBackup(partial);
  if (!verified.ok) {
    removeDatabaseFiles(partial);
    throw new QueueError("CORRUPT", `The backup ${destination} failed verification and was removed: ${verified.problems.join("; ")}.`);
  }
  try {
    // A link, unlike a rename, never replaces a file that appeared under the name meanwhile.
    linkSync(partial, destination);
  } catch (error) {
    removeDatabaseFiles(partial);
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw destinationExists(destination);
    throw new QueueError("CANNOT_OPEN", `Cannot create the backup file ${destination}: ${(error as Error).message}.`, { cause: error });
  }
  removeDatabaseFiles(partial);
  // The new name is on disk too, not only the pages behind it.
  fsyncDirectory(dirname(destination));
  return { file: destination, bytes: statSync(destination).size, pages, durationMs: Date.now() - started };
}

function destinationExists(destination: string): QueueError {
  return new QueueError(
    "INVALID_ARGUMENT",
    `Backup destination ${destination} already exists; choose a new file name (backups are never overwritten).`,
  );
}

export interface BackupVerification {
  readonly ok: boolean;
  readonly schemaVersion: number | null;
  readonly tasks: number | null;
  readonly problems: readonly string[];
}

/** Opens a backup read-only and checks it: integrity, a schema this code knows, readable tasks. */
export function verifyBackup(file: string): BackupVerification {
  let db: QueueDatabase | undefined;
  try {
    db = openQueueDatabase({ path: file, readonly: true });
    const integrity = integrityCheck(db);
    const tasks = countTasks(db);
    return { ok: integrity.ok, schemaVersion: db.schemaVersion(), tasks, problems: integrity.problems };
  } catch (error) {
    return { ok: false, schemaVersion: null, tasks: null, problems: [(error as Error).message] };
  } finally {
    db?.close();
  }
}

/** A file name for a backup of `path` taken at `at`, sortable by time. */
export function backupFileName(path: string, at: Date): string {
  return `${basename(path).replace(/\.db$/, "")}-${at.toISOString().replace(/[:.]/g, "-")}.db`;
}

/** Exactly the names backupFileName makes for `path`, so other files in the directory are never touched. */
function backupNamePattern(path: string): RegExp {
  const prefix = basename(path)
    .replace(/\.db$/, "")
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${prefix}-\\d{4}-\\d{2}-\\d{2}T\\d{2}-\\d{2}-\\d{2}-\\d{3}Z\\.db$`);
}

/** A database file and the -wal, -shm and -journal files SQLite may have left beside it. */
function removeDatabaseFiles(file: string): void {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) rmSync(`${file}${suffix}`, { force: true });
}

/** Backups of `path` in `directory` (by the backupFileName pattern), oldest first. */
export function listBackups(directory: string, path: string): { file: string; bytes: number; modified: Date }[] {
  if (!existsSync(directory)) return [];
  const pattern = backupNamePattern(path);
  return readdirSync(directory)
    .filter((name) => pattern.test(name))
    .sort()
    .map((name) => {
      const stats = statSync(join(directory, name));
      return { file: join(directory, name), bytes: stats.size, modified: stats.mtime };
    });
}

/** A `.partial` file older than this was left by a backup that died (none takes this long). */
export const STALE_PARTIAL_BACKUP_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes all but the newest `keep` backups of `path` in `directory`, and the `.partial` files of
 * its backups that died more than {@link STALE_PARTIAL_BACKUP_MS} ago; returns the files deleted.
 */
export function pruneBackups(directory: string, path: string, keep: number, now: number = Date.now()): string[] {
  if (!Number.isInteger(keep) || keep < 1)
    throw new QueueError("INVALID_ARGUMENT", `pruneBackups keeps at least one backup; got keep = ${keep}.`);
  const backups = listBackups(directory, path);
  const doomed = backups.slice(0, Math.max(0, backups.length - keep)).map((backup) => backup.file);
  if (existsSync(directory)) {
    const partial = new RegExp(`${backupNamePattern(path).source.slice(0, -1)}\\.[0-9a-f]{8}\\.partial$`);
    for (const name of readdirSync(directory)) {
      const file = join(directory, name);
      if (partial.test(name) && now - statSync(file).mtimeMs > STALE_PARTIAL_BACKUP_MS) doomed.push(file);
    }
  }
  for (const file of doomed) removeDatabaseFiles(file);
  return doomed;
}

/**
 * Restores `source` over the database at `target` with the backup API (other connections see the
 * restored content once it is done). Refuses while workers are alive on the target (a heartbeat in
 * the last `liveWorkerMs`) unless `force`, and refuses a backup that fails verification.
 */
export async function restoreBackup(
  source: string,
  target: string,
  options: { readonly force?: boolean; readonly liveWorkerMs?: number } = {},
): Promise<{ readonly tasks: number }> {
  const verified = verifyBackup(source);
  if (!verified.ok)
    throw new QueueError("CORRUPT", `Refusing to restore ${source}: it failed verification (${verified.problems.join("; ")}).`);
  if ((verified.schemaVersion ?? 0) > SCHEMA_VERSION) {
    throw new QueueError(
      "SCHEMA_TOO_NEW",
      `Refusing to restore ${source}: it has schema ${verified.schemaVersion}; this code knows ${SCHEMA_VERSION}.`,
    );
  }
  if (existsSync(target) && realpathSync(target) === realpathSync(source)) {
    throw new QueueError(
      "INVALID_ARGUMENT",
      `Refusing to restore ${source} onto itself; give the backup file and the database it should replace.`,
    );
  }
  if (existsSync(target) && !options.force) {
    let alive: string[] = [];
    let live: QueueDatabase | undefined;
    try {
      // Read-only: looking for live workers must not migrate or otherwise change the target.
      live = openQueueDatabase({ path: target, readonly: true });
      const now = live.clock.now();
      alive = listWorkers(live)
        .filter((worker) => now - worker.heartbeat_at < (options.liveWorkerMs ?? 60_000))
        .map((worker) => worker.id);
    } catch {
      // A target that cannot be read (damaged, not a database) is what a restore is for.
    } finally {
      live?.close();
    }
    if (alive.length > 0) {
      throw new QueueError(
        "INVALID_STATE",
        `Refusing to restore over ${target}: ${alive.length} worker(s) are running on it (${alive.join(", ")}). Stop them first, or pass force.`,
      );
    }
  }
  if (!existsSync(target)) {
    try {
      // Like init and backup, a restore into a new directory creates it (owner-only).
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      closeSync(openSync(target, "wx", 0o600));
    } catch (error) {
      throw fileError(error, target, "create the database file");
    }
  }
  const backupConnection = new Database(source, { readonly: true });
  try {
    await backupConnection.backup(target);
  } catch (error) {
    throw toQueueError(error, target, `restoring from ${source}`);
  } finally {
    backupConnection.close();
  }
  chmodSync(target, 0o600);
  return { tasks: verified.tasks ?? 0 };
}
