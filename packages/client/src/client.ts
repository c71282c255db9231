import {
  type DatabaseThread,
  describeValue,
  EVERY_TYPE,
  localWorkerCount,
  localWorkerWaiting,
  type NewTaskRow,
  newTaskRow,
  type OpenQueueDatabaseOptions,
  type QueueDatabase,
  QueueError,
  type QueueStore,
  SqliteStore,
  startEnqueueSpan,
  storeFromOptions,
  type Task,
  type TaskRow,
  type TaskSpan,
  type TaskStatus,
  taskFromRow,
} from "@queue/core";
import { GroupCommitter, type Settled } from "./group-commit.js";
import type {
  AnyTypedTask,
  EnqueueItem,
  EnqueueOptions,
  EnqueueResult,
  ListOptions,
  ResultOf,
  TaskPage,
  TaskPayloads,
  TaskReference,
  TaskResults,
  TaskTypeName,
  TypedTask,
  WaitOptions,
} from "./types.js";
import { DEFAULT_ENQUEUE_LIMITS, type EnqueueLimits, toNewTaskRow, validateTaskType } from "./validate.js";
import { waitForFinalTask } from "./wait.js";

export interface QueueClientOptions {
  /** A store to use (any backend); the client does not close it. */
  readonly store?: QueueStore;
  /** Or an open SQLite database to use; the client does not close it. */
  readonly db?: QueueDatabase;
  /**
   * Or a SQLite file to open (default: QUEUE_DB_PATH, else the per-user data directory); closed by
   * `close()`. A postgres:// URL here (or in QUEUE_DB_PATH) opens that database, as `url` does.
   */
  readonly path?: string;
  /**
   * Or a PostgreSQL database to open: a postgres:// or postgresql:// URL (`?schema=NAME` picks the
   * schema; needs @queue/postgres installed); closed by `close()`.
   */
  readonly url?: string;
  /** Further options for opening `path` (pragmas, clock, busy retry); on PostgreSQL only `clock` applies. */
  readonly open?: Omit<OpenQueueDatabaseOptions, "path" | "connection">;
  /** Largest payload, as JSON bytes. Default 1 MiB. */
  readonly maxPayloadBytes?: number;
  /** Attempts per task unless `maxAttempts` is given. Default 3. */
  readonly defaultMaxAttempts?: number;
  /**
   * A thread serving `CLIENT_THREAD_OPS` on its own connection to the same file (see
   * `DatabaseThread`): enqueues are validated and serialised here and inserted there. Once the
   * thread stops, the client inserts on its own connection again. Not closed by the client.
   */
  readonly databaseThread?: DatabaseThread;
}

/** Tasks per group-commit transaction. */
export const GROUP_COMMIT_BATCH = 512;
/**
 * Tasks per transaction while a worker in this process watches the same file and still has work
 * to claim: it shares the thread, and every batch written holds its handlers and claims up. Short
 * batches fit between its turns. While that worker has taken everything there was (or there is
 * none), batches are full size: nothing waits on the thread but the work being written.
 */
const BATCH_BESIDE_BUSY_WORKER = 32;

/**
 * How many writes a group commit to the file at `path` puts in one transaction now: 512, or 32
 * while a worker in this process watches the same file and still has tasks to claim.
 */
export function groupCommitBatchSize(path: string): number {
  return localWorkerCount(path) === 0 || localWorkerWaiting(path) ? GROUP_COMMIT_BATCH : BATCH_BESIDE_BUSY_WORKER;
}

function positiveInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new QueueError("INVALID_CONFIG", `Invalid ${name}: got ${describeValue(value)}; expected an integer from 1 to ${max}.`);
  }
  return value;
}

/**
 * Puts work into the queue and looks at it. Every method is asynchronous; writes resolve only once
 * committed. `enqueue()` calls made in the same turn of the event loop share one transaction.
 */
export class QueueClient<Types extends TaskPayloads = Record<string, unknown>, Results extends TaskResults = Record<never, never>>
  implements AsyncDisposable
{
  /** Where the tasks are kept: every read and write goes through it. */
  readonly store: QueueStore;
  readonly #ownsStore: boolean;
  readonly #limits: EnqueueLimits;
  readonly #committer: GroupCommitter<NewTaskRow, EnqueueResult>;
  #closed = false;

  constructor(options: QueueClientOptions = {}) {
    const given = [options.store, options.db, options.path, options.url].filter((option) => option !== undefined).length;
    if (given > 1) throw new QueueError("INVALID_CONFIG", "Give QueueClient one of store, db, path or url, not several.");
    this.#limits = Object.freeze({
      maxPayloadBytes: positiveInteger("maxPayloadBytes", options.maxPayloadBytes ?? DEFAULT_ENQUEUE_LIMITS.maxPayloadBytes, 2 ** 30),
      defaultMaxAttempts: positiveInteger(
        "defaultMaxAttempts",
        options.defaultMaxAttempts ?? DEFAULT_ENQUEUE_LIMITS.defaultMaxAttempts,
        1_000,
      ),
    });
    const { store, opened } =
      options.store === undefined ? storeFromOptions(options, "QueueClient") : { store: options.store, opened: false };
    this.#ownsStore = opened;
    this.store = store;
    const location = this.store.location;
    this.#committer = new GroupCommitter(
      (rows) => this.#insert(rows),
      () => groupCommitBatchSize(location),
    );
  }

  /** The SQLite database under this client's store (for SQLite-only tools); INVALID_STATE on another backend. */
  get db(): QueueDatabase {
    if (this.store instanceof SqliteStore) return this.store.db;
    throw new QueueError(
      "INVALID_STATE",
      `This client's store is ${this.store.backend} (${this.store.location}), not a SQLite database; use client.store.`,
    );
  }

  /**
   * Adds one task. Invalid input (type, payload, options) is rejected before anything is written.
   * With an `idempotencyKey` already used, resolves with the existing task and `created: false`.
   */
  enqueue<Type extends TaskTypeName<Types>>(
    type: Type,
    payload: Types[Type],
    options?: EnqueueOptions,
  ): Promise<EnqueueResult<Types[Type], ResultOf<Results, Type>, Type>> {
    let row: NewTaskRow;
    try {
      this.#assertOpen();
      row = toNewTaskRow(type, payload, options, this.#limits, this.store.clock.now());
    } catch (error) {
      return Promise.reject(error);
    }
    const span = startEnqueueSpan(row.type);
    const written = this.#committer.submit(span === undefined ? row : { ...row, traceParent: span.traceParent });
    return (span === undefined ? written : traced(written, span)) as Promise<EnqueueResult<Types[Type], ResultOf<Results, Type>, Type>>;
  }

  /** Adds several tasks in one transaction: all are written, or (on any invalid item) none. */
  async enqueueMany(items: readonly EnqueueItem<Types>[]): Promise<EnqueueResult[]> {
    this.#assertOpen();
    assertItems("enqueueMany", items);
    const now = this.store.clock.now();
    const rows = items.map((item, index) => {
      try {
        return toNewTaskRow(item?.type, item?.payload, item?.options, this.#limits, now);
      } catch (error) {
        if (error instanceof QueueError) throw new QueueError(error.code, `Item ${index}: ${error.message}`, { cause: error });
        throw error;
      }
    });
    return (await this.#insertTraced(rows)).map((outcome) => {
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    });
  }

  /**
   * Adds several tasks in one transaction, each on its own: an invalid item (or one whose existing
   * row cannot be read) gets its error in its place, and the others are written all the same.
   * Resolves once committed, with one outcome per item in order; rejects only when the transaction
   * failed, and then nothing was written.
   */
  async enqueueEach(items: readonly EnqueueItem<Types>[]): Promise<Settled<EnqueueResult>[]> {
    this.#assertOpen();
    assertItems("enqueueEach", items);
    const now = this.store.clock.now();
    const outcomes: Settled<EnqueueResult>[] = new Array(items.length);
    const rows: NewTaskRow[] = [];
    const positions: number[] = [];
    for (let index = 0; index < items.length; index++) {
      const item = items[index];
      try {
        rows.push(toNewTaskRow(item?.type, item?.payload, item?.options, this.#limits, now));
        positions.push(index);
      } catch (error) {
        outcomes[index] = { ok: false, error };
      }
    }
    const written = await this.#insertTraced(rows);
    for (let index = 0; index < positions.length; index++) outcomes[positions[index] as number] = written[index] as Settled<EnqueueResult>;
    return outcomes;
  }

  /**
   * The task with this id, or undefined. Given a task (or `{ id, type }`) it comes back typed as
   * that type of the map; given an id, as any type of the map (check `task.type` to narrow it).
   */
  get<Type extends TaskTypeName<Types>>(task: TaskReference<Type>): Promise<TypedTask<Types, Results, Type> | undefined>;
  get(id: number): Promise<AnyTypedTask<Types, Results> | undefined>;
  /** Types given by hand, for a client without a map. */
  get<Payload, Result>(id: number): Promise<Task<Payload, Result> | undefined>;
  async get(task: number | TaskReference): Promise<Task | undefined> {
    this.#assertOpen();
    const id = validateId(typeof task === "object" && task !== null ? task.id : task);
    const row = await this.store.getTask(id);
    return row === undefined ? undefined : taskFromRow(row);
  }

  /** A page of tasks, newest first unless `order: "oldest"`. */
  async list(options: ListOptions = {}): Promise<TaskPage> {
    this.#assertOpen();
    const limit = options.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new QueueError("INVALID_ARGUMENT", `list: limit must be an integer from 1 to 1000; got ${describeValue(limit)}.`);
    if (options.type !== undefined) validateTaskType(options.type);
    const afterId = options.cursor === undefined ? undefined : parseCursor(options.cursor);
    const rows = await this.store.listTasks({
      status: options.status,
      type: options.type,
      limit: limit + 1,
      afterId,
      order: options.order ?? "newest",
    });
    const tasks = rows.slice(0, limit).map((row) => taskFromRow(row));
    const last = tasks.at(-1);
    return rows.length > limit && last !== undefined ? { tasks, nextCursor: String(last.id) } : { tasks };
  }

  /**
   * Cancels a task. A queued task is cancelled at once. A leased task is marked, its handler's
   * AbortSignal fires at the worker's next heartbeat, and the task ends cancelled (or completed, if
   * the handler finished anyway). Cancelling a cancelled task returns it unchanged.
   */
  async cancel(id: number): Promise<Task> {
    this.#assertOpen();
    const row = await this.store.cancelTask(validateId(id));
    return taskFromRow(row);
  }

  /** Sends a dead-lettered task back to the queue with its attempts reset. */
  async retry(id: number): Promise<Task> {
    this.#assertOpen();
    const row = await this.store.retryDeadLetterTask(validateId(id));
    return taskFromRow(row);
  }

  /**
   * Resolves with the task once it is completed, dead-lettered or cancelled. Typed like `get`: pass
   * the task `enqueue` returned to get its own payload and result types back.
   */
  waitFor<Type extends TaskTypeName<Types>>(task: TaskReference<Type>, options?: WaitOptions): Promise<TypedTask<Types, Results, Type>>;
  waitFor(id: number, options?: WaitOptions): Promise<AnyTypedTask<Types, Results>>;
  /** Types given by hand, for a client without a map. */
  waitFor<Payload, Result>(id: number, options?: WaitOptions): Promise<Task<Payload, Result>>;
  async waitFor(task: number | TaskReference, options: WaitOptions = {}): Promise<Task> {
    this.#assertOpen();
    const id = validateId(typeof task === "object" && task !== null ? task.id : task);
    const row = await waitForFinalTask(this.store, id, options);
    return taskFromRow(row);
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    this.#assertOpen();
    return this.store.countTasksByStatus();
  }

  /** Stops claiming of one type, or of every type, in every process. Enqueueing still works. */
  async pause(type?: string): Promise<void> {
    this.#assertOpen();
    await this.store.pauseType(type === undefined ? EVERY_TYPE : validateTaskType(type));
  }

  async resume(type?: string): Promise<void> {
    this.#assertOpen();
    await this.store.resumeType(type === undefined ? EVERY_TYPE : validateTaskType(type));
  }

  /** Paused type names; "*" means the whole queue is paused. */
  async paused(): Promise<string[]> {
    this.#assertOpen();
    return this.store.pausedTypes();
  }

  /** Waits for pending enqueues to commit, then closes the store if this client opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#committer.drain();
    if (this.#ownsStore) await this.store.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** #insert with an enqueue span per row (when tracing is on), each ended with its row's outcome. */
  async #insertTraced(rows: readonly NewTaskRow[]): Promise<Settled<EnqueueResult>[]> {
    if (rows.length === 0) return [];
    const spans = rows.map((row) => startEnqueueSpan(row.type));
    if (spans.every((span) => span === undefined)) return this.#insert(rows);
    const traced = rows.map((row, index) => {
      const span = spans[index];
      return span === undefined ? row : { ...row, traceParent: span.traceParent };
    });
    let outcomes: Settled<EnqueueResult>[];
    try {
      outcomes = await this.#insert(traced);
    } catch (error) {
      for (const span of spans) if (span !== undefined) endEnqueueSpan(span, { ok: false, error });
      throw error;
    }
    outcomes.forEach((outcome, index) => {
      const span = spans[index];
      if (span !== undefined) endEnqueueSpan(span, outcome);
    });
    return outcomes;
  }

  /**
   * One transaction for all `rows`; rejects only if that transaction failed. Local workers are
   * woken once it has committed; decoding each result afterwards can fail only for that item.
   */
  async #insert(rows: readonly NewTaskRow[]): Promise<Settled<EnqueueResult>[]> {
    const { now, rows: inserted } = await this.store.insertTasks(rows);
    const settled: Settled<EnqueueResult>[] = new Array(rows.length);
    for (let index = 0; index < rows.length; index++) {
      const result = inserted[index] as number | TaskRow;
      // A new task is what was just validated and written: it is built and decoded only if the
      // caller reads it (many never do). An existing row is decoded now, so a bad one fails this item.
      if (typeof result === "number") {
        settled[index] = { ok: true, value: freshResult(result, rows[index] as NewTaskRow, now) };
        continue;
      }
      try {
        settled[index] = { ok: true, value: { task: taskFromRow(result), created: false } };
      } catch (error) {
        settled[index] = { ok: false, error };
      }
    }
    return settled;
  }

  #assertOpen(): void {
    if (this.#closed) throw new QueueError("CLOSED", "This QueueClient is closed; create a new one.");
  }
}

/**
 * The result of a fresh insert, its task built and decoded from what was written the first time it
 * is read. A plain object with `task` as an own, enumerable accessor, like every other result.
 */
function freshResult(id: number, row: NewTaskRow, now: number): EnqueueResult {
  let task: Task | undefined;
  return {
    created: true,
    get task(): Task {
      task ??= taskFromRow(newTaskRow(id, row, now));
      return task;
    },
  };
}

/** Ends the enqueue span when the write settles, with the task id or the error. */
function traced(written: Promise<EnqueueResult>, span: TaskSpan): Promise<EnqueueResult> {
  return written.then(
    (result) => {
      endEnqueueSpan(span, { ok: true, value: result });
      return result;
    },
    (error: unknown) => {
      endEnqueueSpan(span, { ok: false, error });
      throw error;
    },
  );
}

/** Ends an enqueue span with its task's id once written, or with the error that kept it out. */
function endEnqueueSpan(span: TaskSpan, outcome: Settled<EnqueueResult>): void {
  if (outcome.ok) span.end(undefined, { "messaging.message.id": String(outcome.value.task.id) });
  else span.end(outcome.error);
}

function assertItems(method: string, items: unknown): void {
  if (!Array.isArray(items))
    throw new QueueError("INVALID_ARGUMENT", `${method} expects an array of { type, payload, options }; got ${describeValue(items)}.`);
}

function validateId(id: unknown): number {
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id < 1) {
    throw new QueueError("INVALID_ARGUMENT", `A task id is a positive integer; got ${describeValue(id)}.`);
  }
  return id;
}

function parseCursor(cursor: string): number {
  const id = Number(cursor);
  if (!/^\d+$/.test(cursor) || !Number.isSafeInteger(id)) {
    throw new QueueError("INVALID_ARGUMENT", `Invalid list cursor ${describeValue(cursor)}; pass the nextCursor of a previous page.`);
  }
  return id;
}
