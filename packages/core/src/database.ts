import { statSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import { type BusyRetryPolicy, retryOnBusy, retryOnBusySync } from "./busy-retry.js";
import { acquireCheckpointer, type CheckpointerHandle } from "./checkpointer.js";
import type { Clock } from "./clock.js";
import { QueueError } from "./errors.js";
import { readSchemaVersion } from "./migrations/runner.js";
import type { PragmaSettings } from "./pragmas.js";
import { toQueueError } from "./sqlite-errors.js";

type Statement = BetterSqlite3.Statement<unknown[], unknown>;

export interface QueueDatabaseInit {
  readonly connection: BetterSqlite3.Database;
  /** Whether `close()` closes the connection (false for a connection the caller opened). */
  readonly ownsConnection: boolean;
  readonly path: string;
  readonly clock: Clock;
  readonly readonly: boolean;
  readonly pragmas: PragmaSettings;
  readonly busyRetry: BusyRetryPolicy;
  /** Where WAL checkpoints run (see OpenQueueDatabaseOptions.checkpoints). Default "inline". */
  readonly checkpoints?: CheckpointMode;
}

/**
 * "background": after a connection's first {@link BACKGROUND_CHECKPOINT_AFTER} write transactions,
 * a thread of its own copies WAL pages into the database file as commits come, so the writing
 * thread's automatic checkpoints (then at four times `walAutocheckpointPages`) find little left to
 * copy. "inline": SQLite's automatic checkpoints alone, run inside the commit that crosses the
 * threshold.
 */
export type CheckpointMode = "background" | "inline";

/** Write transactions a connection commits before it starts a background checkpointer: a short script never does. */
export const BACKGROUND_CHECKPOINT_AFTER = 64;
/** With a background checkpointer, a connection's automatic checkpoint runs this many times less often. */
const BACKGROUND_AUTOCHECKPOINT_FACTOR = 4;

/**
 * One connection to the queue's SQLite file, with the transaction discipline the queue relies on:
 * every write runs in BEGIN IMMEDIATE with a synchronous callback, and SQLITE_BUSY is retried with
 * jittered backoff until the busy budget is spent. Create it with `openQueueDatabase()`.
 */
export class QueueDatabase implements Disposable {
  readonly path: string;
  readonly clock: Clock;
  readonly readonly: boolean;
  readonly pragmas: PragmaSettings;
  readonly busyRetry: BusyRetryPolicy;
  readonly #connection: BetterSqlite3.Database;
  readonly #ownsConnection: boolean;
  readonly #statements = new Map<string, Statement>();
  readonly #rawStatements = new Map<string, Statement>();
  /** The file's device and inode when opened, to notice it being deleted or replaced; undefined in memory. */
  readonly #fileIdentity: FileIdentity | undefined;
  #savepointDepth = 0;
  #closed = false;
  /** Commits still to go before the background checkpointer starts; -1 when it never does. */
  #commitsBeforeCheckpointer: number;
  #checkpointer: CheckpointerHandle | undefined;
  /** Inside a write transaction this handle began: its change sequence number, once read. */
  #ownTransaction = false;
  #changeSeq: number | undefined;

  constructor(init: QueueDatabaseInit) {
    this.#connection = init.connection;
    this.#ownsConnection = init.ownsConnection;
    this.path = init.path;
    this.clock = init.clock;
    this.readonly = init.readonly;
    this.pragmas = init.pragmas;
    this.busyRetry = init.busyRetry;
    const stats = init.connection.memory ? undefined : statSync(init.path, { throwIfNoEntry: false });
    this.#fileIdentity = stats === undefined ? undefined : { dev: stats.dev, ino: stats.ino };
    const background =
      init.checkpoints === "background" &&
      !init.readonly &&
      stats !== undefined &&
      init.pragmas.journalMode === "wal" &&
      init.pragmas.walAutocheckpointPages > 0;
    this.#commitsBeforeCheckpointer = background ? BACKGROUND_CHECKPOINT_AFTER : -1;
  }

  /** Whether a background checkpointer serves this connection now. */
  get checkpointsInBackground(): boolean {
    return this.#checkpointer?.alive === true;
  }

  /** The underlying better-sqlite3 connection, for SQL the queue does not wrap. */
  get connection(): BetterSqlite3.Database {
    this.#assertOpen();
    return this.#connection;
  }

  get isOpen(): boolean {
    return !this.#closed && this.#connection.open;
  }

  /** True while a transaction (of this handle or of the connection's owner) is open. */
  get inTransaction(): boolean {
    return this.#connection.inTransaction;
  }

  /**
   * PRAGMA data_version: a number that changes when another connection commits to the file (never
   * for this connection's own commits). Only ever compare two readings of the same connection.
   */
  dataVersion(): number {
    return this.statement<{ data_version: number }>("PRAGMA data_version").get()?.data_version ?? -1;
  }

  /** A prepared statement for `sql`, prepared once per connection and reused. */
  statement<Row = unknown>(sql: string): BetterSqlite3.Statement<unknown[], Row> {
    return this.#prepared(this.#statements, sql, false) as BetterSqlite3.Statement<unknown[], Row>;
  }

  /**
   * Like `statement()`, but its rows are arrays of the result's values in column order: cheaper
   * than an object per row, for hot statements that return many rows.
   */
  rawStatement<Values extends readonly unknown[]>(sql: string): BetterSqlite3.Statement<unknown[], Values> {
    return this.#prepared(this.#rawStatements, sql, true) as BetterSqlite3.Statement<unknown[], Values>;
  }

  /** `sql` prepared once per connection (rows as arrays when `raw`), kept in `cache`. */
  #prepared(cache: Map<string, Statement>, sql: string, raw: boolean): Statement {
    this.#assertOpen();
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = this.#guard(() => {
        const prepared = this.#connection.prepare(sql);
        return raw ? prepared.raw(true) : prepared;
      }, "preparing a statement");
      cache.set(sql, statement);
    }
    return statement;
  }

  /**
   * Runs `fn` in a write transaction (BEGIN IMMEDIATE) and resolves with its result once committed.
   * `fn` must be synchronous: no `await` inside. If it throws, everything it wrote is rolled back.
   * When the write lock is busy, the whole transaction is retried with jittered backoff, so `fn`
   * may run more than once and must not have effects outside the database. Called inside another
   * transaction, it runs as a savepoint of that one.
   */
  transaction<T>(fn: (db: this) => T): Promise<T> {
    return retryOnBusy(this.busyRetry, this.path, () => this.#attempt(fn));
  }

  /**
   * Like `transaction()` but returns synchronously; busy retries block the thread while they wait.
   * For code that cannot be asynchronous, such as a write that must join the caller's transaction.
   */
  transactionSync<T>(fn: (db: this) => T): T {
    return retryOnBusySync(this.busyRetry, this.path, () => this.#attempt(fn));
  }

  /** Runs `fn` in a read transaction, so every query in it sees the same snapshot. */
  read<T>(fn: (db: this) => T): T {
    this.#assertOpen();
    if (this.#connection.inTransaction) return this.#guard(() => fn(this), "reading");
    return this.#guard(() => {
      this.statement("BEGIN DEFERRED").run();
      try {
        const result = fn(this);
        assertSynchronous(result);
        return result;
      } finally {
        if (this.#connection.inTransaction) this.statement("COMMIT").run();
      }
    }, "reading");
  }

  /** The schema version recorded in the file. */
  schemaVersion(): number {
    this.#assertOpen();
    return this.#guard(() => readSchemaVersion(this.#connection), "reading the schema version");
  }

  /**
   * Closes the connection if this handle opened it. A connection passed in by the caller is left
   * open: it is theirs to close. Safe to call more than once.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#statements.clear();
    this.#rawStatements.clear();
    // A caller's connection goes back to checkpointing as it was configured.
    this.#stopBackgroundCheckpoints();
    if (this.#ownsConnection && this.#connection.open) this.#connection.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** The file's device and inode when this connection opened it; undefined in memory. */
  get fileIdentity(): FileIdentity | undefined {
    return this.#fileIdentity;
  }

  /**
   * The change sequence number this write transaction stamps on the tasks it changes: one more
   * than any stamped before (tasks, and the floor that deletions raise). Read once per transaction
   * this handle began; inside a transaction it joined (a caller's), read again at each call, which
   * is still above every earlier commit. Call it only inside a write transaction.
   */
  changeSeq(): number {
    if (this.#changeSeq !== undefined) return this.#changeSeq;
    const seq =
      this.statement<{ seq: number }>(
        "SELECT max((SELECT coalesce(max(change_seq), 0) FROM tasks), (SELECT seq FROM queue_change_floor WHERE id = 1)) + 1 AS seq",
      ).get()?.seq ?? 1;
    if (this.#ownTransaction) this.#changeSeq = seq;
    return seq;
  }

  #attempt<T>(fn: (db: this) => T): T {
    this.#assertOpen();
    if (this.#connection.inTransaction) return this.#savepoint(fn);
    this.#guard(() => this.statement("BEGIN IMMEDIATE").run(), "starting a write transaction");
    this.#ownTransaction = true;
    this.#changeSeq = undefined;
    try {
      this.#assertFileInPlace();
      const result = fn(this);
      assertSynchronous(result);
      this.statement("COMMIT").run();
      this.#committed();
      return result;
    } catch (error) {
      if (this.#connection.inTransaction) this.statement("ROLLBACK").run();
      throw this.#classify(error, "writing");
    } finally {
      this.#ownTransaction = false;
      this.#changeSeq = undefined;
    }
  }

  #committed(): void {
    if (this.#checkpointer !== undefined) {
      if (this.#checkpointer.alive) {
        this.#checkpointer.committed();
        return;
      }
      // The thread failed: checkpoint on this connection as configured, and do not start another.
      this.#stopBackgroundCheckpoints();
      return;
    }
    if (this.#commitsBeforeCheckpointer < 0 || --this.#commitsBeforeCheckpointer > 0) return;
    this.#commitsBeforeCheckpointer = -1;
    try {
      this.#checkpointer = acquireCheckpointer(this.path, this.pragmas.synchronous);
      this.#checkpointer.committed();
      // The thread keeps copying as commits come; this connection's own checkpoint is left the
      // backstop that resets the WAL, so it need not run as often.
      const pages = Math.min(2 ** 31 - 1, this.pragmas.walAutocheckpointPages * BACKGROUND_AUTOCHECKPOINT_FACTOR);
      this.#connection.pragma(`wal_autocheckpoint = ${pages}`);
    } catch {
      // No thread (a restricted runtime): the connection's own automatic checkpoints do the work.
    }
  }

  /** Lets go of the background checkpointer, if any, and restores the configured automatic checkpoint. */
  #stopBackgroundCheckpoints(): void {
    if (this.#checkpointer === undefined) return;
    this.#checkpointer.release();
    this.#checkpointer = undefined;
    if (this.#connection.open) this.#connection.pragma(`wal_autocheckpoint = ${this.pragmas.walAutocheckpointPages}`);
  }

  #savepoint<T>(fn: (db: this) => T): T {
    const name = `queue_sp_${++this.#savepointDepth}`;
    try {
      this.#connection.exec(`SAVEPOINT ${name}`);
      try {
        const result = fn(this);
        assertSynchronous(result);
        this.#connection.exec(`RELEASE ${name}`);
        return result;
      } catch (error) {
        this.#connection.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        throw this.#classify(error, "writing");
      }
    } finally {
      this.#savepointDepth -= 1;
    }
  }

  #guard<T>(work: () => T, operation: string): T {
    try {
      return work();
    } catch (error) {
      throw this.#classify(error, operation);
    }
  }

  #classify(error: unknown, operation: string): unknown {
    return toQueueError(error, this.path, operation);
  }

  /**
   * An open connection keeps writing to the file it opened even after that file is deleted or
   * another is renamed over it: such writes would reach no other process and vanish at exit.
   */
  #assertFileInPlace(): void {
    const identity = this.#fileIdentity;
    if (identity === undefined) return;
    if (isFileAt(this.path, identity)) return;
    throw new QueueError(
      "READ_ONLY",
      `The queue database ${this.path} was deleted, moved or replaced since this process opened it, so writes would be lost; nothing was written. Close this handle and open the database again (restart the process), or restore the file.`,
      { path: this.path, details: { reason: "file-replaced" } },
    );
  }

  #assertOpen(): void {
    if (this.#closed || !this.#connection.open) {
      throw new QueueError("CLOSED", `The queue database ${this.path} is closed; open it again before using it.`, {
        path: this.path,
      });
    }
  }
}

/** A file as the file system knows it: the same path may later lead to another. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** Whether two identities are of one file. */
export function sameFile(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  return a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;
}

/** Whether `path` still leads to the file `identity` was taken from. */
export function isFileAt(path: string, identity: FileIdentity): boolean {
  return sameFile(statSync(path, { throwIfNoEntry: false }), identity);
}

function assertSynchronous(result: unknown): void {
  if (typeof (result as { then?: unknown } | null)?.then === "function") {
    throw new QueueError(
      "INVALID_ARGUMENT",
      "A transaction callback returned a Promise. Transaction callbacks must be synchronous: do the asynchronous work before or after the transaction.",
    );
  }
}
