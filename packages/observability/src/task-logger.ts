import {
  deleteTaskLogsBefore,
  insertTaskLog,
  LOG_LEVELS,
  type LogLevel,
  type QueueDatabase,
  QueueError,
  selectRecentTaskLogs,
  selectTaskLogs,
  serializeJson,
  type TaskLog,
  taskLogFromRow,
} from "@queue/core";

/** Writes and reads the per-task log (the lines handlers write with ctx.log), with retention. */
export class TaskLogger {
  readonly db: QueueDatabase;

  constructor(db: QueueDatabase) {
    this.db = db;
  }

  /** Appends a line; `details` must be JSON-serialisable. Resolves with the line's id. */
  async write(taskId: number, level: LogLevel, message: string, details?: unknown): Promise<number> {
    if (!LOG_LEVELS.includes(level))
      throw new QueueError("INVALID_ARGUMENT", `Log level must be one of ${LOG_LEVELS.join(", ")}; got ${String(level)}.`);
    if (typeof message !== "string") throw new QueueError("INVALID_ARGUMENT", "A log message must be a string.");
    const json = details === undefined ? null : serializeJson(details, { what: "log details", maxBytes: 64 * 1024 });
    return this.db.transaction((tx) => insertTaskLog(tx, taskId, level, message, json, tx.clock.now()));
  }

  /** A task's lines, oldest first. */
  forTask(taskId: number, limit = 1_000): TaskLog[] {
    return this.db.read((tx) => selectTaskLogs(tx, taskId, limit).map(taskLogFromRow));
  }

  /** The newest lines of any task, newest first, optionally of some levels only. */
  recent(options: { readonly limit?: number; readonly levels?: readonly LogLevel[] } = {}): TaskLog[] {
    return this.db.read((tx) => selectRecentTaskLogs(tx, options.limit ?? 100, options.levels).map(taskLogFromRow));
  }

  /**
   * Deletes lines older than `olderThanMs`, in batches of `batchSize`, each its own short
   * transaction so workers keep writing in between. Resolves with the number deleted.
   */
  async cleanup(options: { readonly olderThanMs: number; readonly batchSize?: number }): Promise<number> {
    const batchSize = options.batchSize ?? 1_000;
    const before = this.db.clock.now() - options.olderThanMs;
    let deleted = 0;
    for (;;) {
      const batch = await this.db.transaction((tx) => deleteTaskLogsBefore(tx, before, batchSize));
      deleted += batch;
      if (batch < batchSize) return deleted;
    }
  }
}
