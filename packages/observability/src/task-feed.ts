import { asStore, type QueueDatabase, type QueueStore, type Task, TypedEmitter, taskFromRow } from "@queue/core";

export interface TaskFeedEvents {
  /** A task was written (enqueued, claimed, finished, ...); `task` is its state now. */
  change: (task: Task) => void;
  error: (error: unknown) => void;
}

export interface TaskFeedOptions {
  /** How often to look for changes. Default 250 ms. */
  readonly intervalMs?: number;
  /** Start after the newest change ("now", the default) or from the first task ("start"). */
  readonly from?: "now" | "start";
  /** Most changes read per poll. Default 1,000. */
  readonly batchSize?: number;
}

/**
 * Follows task changes made by any process, in the order they were written, through the store's
 * change cursor: for a dashboard, or `queue stats --follow`, watching a queue that other
 * processes work. Each poll reads only what changed since the last one.
 */
export class TaskFeed extends TypedEmitter<TaskFeedEvents> {
  readonly store: QueueStore;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  /** Where the next poll reads from; until the first poll, where "now" or "start" says. */
  #cursor: Promise<string | undefined>;
  #timer?: NodeJS.Timeout;
  #polling?: Promise<Task[]>;

  /** On any store, or on an open SQLite database (left open). */
  constructor(source: QueueStore | QueueDatabase, options: TaskFeedOptions = {}) {
    super();
    this.store = asStore(source);
    this.#intervalMs = options.intervalMs ?? 250;
    this.#batchSize = options.batchSize ?? 1_000;
    this.#cursor = options.from === "start" ? Promise.resolve(undefined) : this.store.latestChange();
    // A failure here is the first poll's to report.
    this.#cursor.catch(() => undefined);
  }

  /** Reads and emits the changes since the last poll; resolves with them too. Polls run one at a time. */
  poll(): Promise<Task[]> {
    const previous = this.#polling ?? Promise.resolve([]);
    const next = previous.catch(() => []).then(() => this.#read());
    this.#polling = next;
    return next;
  }

  start(): this {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        this.poll().catch((error: unknown) => this.emit("error", error));
      }, this.#intervalMs);
    }
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #read(): Promise<Task[]> {
    const changed: Task[] = [];
    let cursor = await this.#cursor;
    for (;;) {
      const { rows, cursor: next } = await this.store.changesAfter(cursor, this.#batchSize);
      cursor = next;
      this.#cursor = Promise.resolve(next);
      for (const row of rows) {
        const task = taskFromRow(row);
        changed.push(task);
        this.emit("change", task);
      }
      if (rows.length < this.#batchSize) return changed;
    }
  }
}
