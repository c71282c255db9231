// The change cursor on SQLite: tasks in commit order, by (change_seq, id). Every write transaction
// stamps the tasks it changes with a number above every earlier one (QueueDatabase.changeSeq), and
// transactions commit in that order, so a reader that continues after (change_seq, id) misses
// nothing: a change committed later always has a higher number. The cursor is opaque above the
// port ("<change_seq>:<id>").
import type { QueueDatabase } from "../database.js";
import { QueueError } from "../errors.js";
import { TASK_COLUMNS, type TaskRow } from "../models/task-row.js";
import type { TaskChanges } from "../store/port.js";

interface Position {
  readonly seq: number;
  readonly id: number;
}

const START: Position = { seq: -1, id: 0 };

function encode(position: Position): string {
  return `${position.seq}:${position.id}`;
}

function decode(cursor: string | undefined): Position {
  if (cursor === undefined) return START;
  const match = /^(-?\d+):(\d+)$/.exec(cursor);
  if (match === null)
    throw new QueueError("INVALID_ARGUMENT", `Invalid change cursor ${JSON.stringify(cursor)}; pass one a change feed returned.`);
  return { seq: Number(match[1]), id: Number(match[2]) };
}

type ChangedRow = TaskRow & { readonly change_seq: number };

/** Tasks changed after `cursor`, in commit order, and the cursor after the last of them. */
export function tasksChangedAfterCursor(db: QueueDatabase, cursor: string | undefined, limit: number): TaskChanges {
  const after = decode(cursor);
  const rows = db
    .statement<ChangedRow>(
      `SELECT ${TASK_COLUMNS}, change_seq FROM tasks INDEXED BY tasks_by_change
       WHERE change_seq > ? OR (change_seq = ? AND id > ?) ORDER BY change_seq, id LIMIT ?`,
    )
    .all(after.seq, after.seq, after.id, limit);
  const last = rows.at(-1);
  return {
    rows: rows.map(({ change_seq: _, ...row }) => row),
    cursor: last === undefined ? encode(after) : encode({ seq: last.change_seq, id: last.id }),
  };
}

/** The cursor at the newest change now. */
export function latestChange(db: QueueDatabase): string {
  const row = db
    .statement<{ change_seq: number; id: number }>(
      "SELECT change_seq, id FROM tasks INDEXED BY tasks_by_change ORDER BY change_seq DESC, id DESC LIMIT 1",
    )
    .get();
  return encode(row === undefined ? START : { seq: row.change_seq, id: row.id });
}
