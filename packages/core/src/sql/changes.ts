// The change cursor on SQLite: tasks in commit order, by (change_seq, id). Every write transaction
// stamps the tasks it changes with a number above every earlier one (QueueDatabase.changeSeq), and
// transactions commit in that order, so a reader that continues after (change_seq, id) misses
// nothing: a change committed later always has a higher number. The cursor is opaque above the
// port ("<change_seq>:<id>").
import type { QueueDatabase } from "../database.js";
import { TASK_COLUMNS, type TaskRow } from "../models/task-row.js";
import { CHANGE_CURSOR_START, decodeChangeCursor, encodeChangeCursor } from "../store/change-cursor.js";
import type { TaskChanges } from "../store/port.js";

type ChangedRow = TaskRow & { readonly change_seq: number };

/** Tasks changed after `cursor`, in commit order, and the cursor after the last of them. */
export function tasksChangedAfterCursor(db: QueueDatabase, cursor: string | undefined, limit: number): TaskChanges {
  const after = decodeChangeCursor(cursor);
  const rows = db
    .statement<ChangedRow>(
      `SELECT ${TASK_COLUMNS}, change_seq FROM tasks INDEXED BY tasks_by_change
       WHERE change_seq > ? OR (change_seq = ? AND id > ?) ORDER BY change_seq, id LIMIT ?`,
    )
    .all(after.seq, after.seq, after.id, limit);
  const last = rows.at(-1);
  return {
    rows: rows.map(({ change_seq: _, ...row }) => row),
    cursor: last === undefined ? encodeChangeCursor(after) : encodeChangeCursor({ seq: last.change_seq, id: last.id }),
  };
}

/** The cursor at the newest change now. */
export function latestChange(db: QueueDatabase): string {
  const row = db
    .statement<{ change_seq: number; id: number }>(
      "SELECT change_seq, id FROM tasks INDEXED BY tasks_by_change ORDER BY change_seq DESC, id DESC LIMIT 1",
    )
    .get();
  return encodeChangeCursor(row === undefined ? CHANGE_CURSOR_START : { seq: row.change_seq, id: row.id });
}
