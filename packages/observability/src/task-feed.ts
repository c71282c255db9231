import { type QueueDatabase, type Task, TypedEmitter, taskFromRow, tasksChangedAfter } from "@queue/core";

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
 * Follows task changes made by any process on the file, in the order they were written, by
 * polling the (updated_at, id) index: for a dashboard, or `queue stats --follow`, watching a queue
 * that other processes work. Each poll reads only what changed since the last one.
 */
export class TaskFeed extends TypedEmitter<TaskFeedEvents> {
  readonly db: QueueDatabase;
  readonly #intervalMs: number;
  readonly #batchSize: number;
  #cursor: { updatedAt: number; id: number };
  #timer?: NodeJS.Timeout;

  constructor(db: QueueDatabase, options: TaskFeedOptions = {}) {
    super();
    this.db = db;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#batchSize = options.batchSize ?? 1_000;
    this.#cursor = options.from === "start" ? { updatedAt: Number.MIN_SAFE_INTEGER, id: 0 } : this.#newest();
  }

  /** Reads and emits the changes since the last poll; returns them too. */
  poll(): Task[] {
    const changed: Task[] = [];
    for (;;) {
      const rows = this.db.read((tx) => tasksChangedAfter(tx, this.#cursor.updatedAt, this.#cursor.id, this.#batchSize));
      for (const row of rows) {
        this.#cursor = { updatedAt: row.updated_at, id: row.id };
        const task = taskFromRow(row);
        changed.push(task);
        this.emit("change", task);
      }
      if (rows.length < this.#batchSize) return changed;
    }
  }

  start(): this {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        try {
          this.poll();
        } catch (error) {
          this.emit("error", error);
        }
      }, this.#intervalMs);
    }
    return this;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #newest(): { updatedAt: number; id: number } {
    const row = this.db
      .statement<{ updated_at: number; id: number }>(
        "SELECT updated_at, id FROM tasks INDEXED BY tasks_by_updated_at ORDER BY updated_at DESC, id DESC LIMIT 1",
      )
      .get();
    return row === undefined ? { updatedAt: Number.MIN_SAFE_INTEGER, id: 0 } : { updatedAt: row.updated_at, id: row.id };
  }
}
