// The change cursor on SQLite: tasks in the order they were last written, by the
// (updated_at, id) index. The cursor is opaque above the port ("<updated_at>:<id>").
import type { QueueDatabase } from "../database.js";
import { QueueError } from "../errors.js";
import { TASK_COLUMNS, type TaskRow } from "../models/task-row.js";
import type { TaskChanges } from "../store/port.js";

const START = { updatedAt: Number.MIN_SAFE_INTEGER, id: 0 };

function encode(position: { updatedAt: number; id: number }): string {
  return `${position.updatedAt}:${position.id}`;
}

function decode(cursor: string | undefined): { updatedAt: number; id: number } {
  if (cursor === undefined) return START;
  const match = /^(-?\d+):(\d+)$/.exec(cursor);
  if (match === null)
    throw new QueueError("INVALID_ARGUMENT", `Invalid change cursor ${JSON.stringify(cursor)}; pass one a change feed returned.`);
  return { updatedAt: Number(match[1]), id: Number(match[2]) };
}

/** Tasks changed after `cursor`, in change order, and the cursor after the last of them. */
export function tasksChangedAfterCursor(db: QueueDatabase, cursor: string | undefined, limit: number): TaskChanges {
  const after = decode(cursor);
  const rows = db
    .statement<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM tasks INDEXED BY tasks_by_updated_at
       WHERE updated_at > ? OR (updated_at = ? AND id > ?) ORDER BY updated_at, id LIMIT ?`,
    )
    .all(after.updatedAt, after.updatedAt, after.id, limit);
  const last = rows.at(-1);
  return { rows, cursor: last === undefined ? encode(after) : encode({ updatedAt: last.updated_at, id: last.id }) };
}

/** The cursor at the newest change now. */
export function latestChange(db: QueueDatabase): string {
  const row = db
    .statement<{ updated_at: number; id: number }>(
      "SELECT updated_at, id FROM tasks INDEXED BY tasks_by_updated_at ORDER BY updated_at DESC, id DESC LIMIT 1",
    )
    .get();
  return encode(row === undefined ? START : { updatedAt: row.updated_at, id: row.id });
}
