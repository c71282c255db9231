import {
  asStore,
  LOG_LEVELS,
  type LogLevel,
  type QueueDatabase,
  QueueError,
  type QueueStore,
  serializeJson,
  type TaskLog,
  taskLogFromRow,
} from "@queue/core";

/** Writes and reads the per-task log (the lines handlers write with ctx.log), with retention. */
export class TaskLogger {
  /** Where the lines are kept. */
  readonly store: QueueStore;

  /** On any store, or on an open SQLite database (left open). */
  constructor(source: QueueStore | QueueDatabase) {
    this.store = asStore(source);
  }

  /** Appends a line; `details` must be JSON-serialisable. Resolves with the line's id. */
  async write(taskId: number, level: LogLevel, message: string, details?: unknown): Promise<number> {
    if (!LOG_LEVELS.includes(level))
      throw new QueueError("INVALID_ARGUMENT", `Log level must be one of ${LOG_LEVELS.join(", ")}; got ${String(level)}.`);
    if (typeof message !== "string") throw new QueueError("INVALID_ARGUMENT", "A log message must be a string.");
    const json = details === undefined ? null : serializeJson(details, { what: "log details", maxBytes: 64 * 1024 });
    return this.store.appendTaskLog(taskId, level, message, json);
  }

  /** A task's lines, oldest first. */
  async forTask(taskId: number, limit = 1_000): Promise<TaskLog[]> {
    return (await this.store.taskLogs(taskId, limit)).map(taskLogFromRow);
  }

  /** The newest lines of any task, newest first, optionally of some levels only. */
  async recent(options: { readonly limit?: number; readonly levels?: readonly LogLevel[] } = {}): Promise<TaskLog[]> {
    return (await this.store.recentTaskLogs(options.limit ?? 100, options.levels)).map(taskLogFromRow);
  }

  /**
   * Deletes lines older than `olderThanMs`, in batches of `batchSize`, each its own short
   * transaction so workers keep writing in between. Resolves with the number deleted.
   */
  async cleanup(options: { readonly olderThanMs: number; readonly batchSize?: number }): Promise<number> {
    const batchSize = options.batchSize ?? 1_000;
    const before = this.store.clock.now() - options.olderThanMs;
    let deleted = 0;
    for (;;) {
      const batch = await this.store.deleteTaskLogsBefore(before, batchSize);
      deleted += batch;
      if (batch < batchSize) return deleted;
    }
  }
}
