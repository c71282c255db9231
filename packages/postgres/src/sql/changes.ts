// The change cursor on PostgreSQL. Every write stamps the tasks it changes with the id of its
// transaction (`change_seq`), and a reader follows (change_seq, id).
//
// Why not a sequence: on PostgreSQL, transactions do not commit in the order they took numbers. A
// transaction that took 10 may commit after one that took 11; a reader that had already moved past
// 11 would never see 10. So the reader reads only stamps below the oldest transaction still in
// flight (pg_snapshot_xmin of its snapshot): every transaction below that horizon has committed or
// rolled back, so no row can ever appear there again, and everything above it waits for the next
// read. A row written again gets its new transaction's id, which is above the horizon the reader
// passed (that transaction was still running, or not yet begun), so it comes again, once.
//
// Transaction ids cost nothing to stamp (no lock, no extra write), keep commit order for the rows
// a reader can see, and make deletes harmless (ids are never reused: no floor is needed). The
// price: the horizon is the oldest transaction of the whole server, so a long transaction anywhere
// (an idle session inside BEGIN) holds the feed back, never losing a change. A reader that finds
// committed changes above the horizon waits a little for it to pass (`changeWaitMs`), then answers
// what is safe.
import { decodeChangeCursor, encodeChangeCursor, TASK_COLUMNS, type TaskChanges, type TaskRow } from "@queue/core";
import type { Db } from "../db.js";

/** How long a read waits, by default, for in-flight transactions below committed changes to finish. */
export const DEFAULT_CHANGE_WAIT_MS = 2_000;

type ChangedRow = TaskRow & { readonly change_seq: number; readonly horizon: number; readonly pending: boolean };

/** Tasks changed after `cursor`, in commit order, and the cursor after the last of them. */
export async function tasksChangedAfter(
  db: Db,
  cursor: string | undefined,
  limit: number,
  waitMs = DEFAULT_CHANGE_WAIT_MS,
): Promise<TaskChanges> {
  const after = decodeChangeCursor(cursor);
  const deadline = Date.now() + waitMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    // One statement, one snapshot: the horizon and the rows below it are read together, plus at
    // most one `pending` row: a committed change above the horizon, which the read waits for.
    const rows = await db.rows<ChangedRow>(
      `WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin)
       SELECT * FROM (
         SELECT ${TASK_COLUMNS}, change_seq, (SELECT xmin FROM horizon) AS horizon, false AS pending
         FROM ${db.schema}.tasks
         WHERE (change_seq, id) > ($1, $2) AND change_seq < (SELECT xmin FROM horizon)
         ORDER BY change_seq, id LIMIT $3) AS below
       UNION ALL
       (SELECT ${TASK_COLUMNS}, change_seq, (SELECT xmin FROM horizon), true
        FROM ${db.schema}.tasks WHERE change_seq >= (SELECT xmin FROM horizon) AND (change_seq, id) > ($1, $2)
        LIMIT 1)`,
      [after.seq, after.id, limit],
    );
    const waiting = rows.some((row) => row.pending);
    const changed = rows.filter((row) => !row.pending).sort((a, b) => a.change_seq - b.change_seq || a.id - b.id);
    if (!waiting || changed.length >= limit || Date.now() >= deadline) {
      const last = changed.at(-1);
      return {
        rows: changed.map(({ change_seq: _, horizon: __, pending: ___, ...row }) => row as TaskRow),
        cursor: last === undefined ? encodeChangeCursor(after) : encodeChangeCursor({ seq: last.change_seq, id: last.id }),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}

/**
 * A cursor at the newest change now: the horizon, once every committed change is below it (waiting
 * a little for in-flight transactions under them). What commits from here on comes after it.
 */
export async function latestChange(db: Db, waitMs = DEFAULT_CHANGE_WAIT_MS): Promise<string> {
  const deadline = Date.now() + waitMs;
  for (let pause = 1; ; pause = Math.min(pause * 2, 20)) {
    const [row] = await db.rows<{ horizon: number; newest: number | null }>(
      `WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin)
       SELECT (SELECT xmin FROM horizon) AS horizon,
              (SELECT max(change_seq) FROM ${db.schema}.tasks WHERE change_seq >= (SELECT xmin FROM horizon)) AS newest`,
    );
    if (row === undefined) throw new Error("latestChange: no answer");
    if (row.newest === null || Date.now() >= deadline) {
      // Everything below the horizon is final; a change stamped at or above it has not been read.
      return encodeChangeCursor({ seq: row.horizon - 1, id: Number.MAX_SAFE_INTEGER });
    }
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
}
