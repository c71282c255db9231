import { type DatabaseThreadOps, insertTaskId, type NewTaskRow, type QueueDatabase, type TaskRow } from "@queue/core";

/** What a batch insert wrote: its transaction's time and, per row, the new task's id or the row already stored under its idempotency key. */
export interface InsertedRows {
  readonly now: number;
  readonly rows: readonly (number | TaskRow)[];
}

/** Inserts validated rows in one write transaction. */
export function insertTaskRows(db: QueueDatabase, rows: readonly NewTaskRow[]): Promise<InsertedRows> {
  return db.transaction((tx) => {
    const now = tx.clock.now();
    return { now, rows: rows.map((row) => insertTaskId(tx, row, now)) };
  });
}

/** What a database thread must serve for a client given `databaseThread`: spread it into the ops given to `serveDatabaseThread`. */
export const CLIENT_THREAD_OPS = {
  "client.insert": insertTaskRows,
} satisfies DatabaseThreadOps;
