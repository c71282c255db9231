import { describe, expect, it } from "vitest";
import { admin, insertIds, openStore } from "./helpers.js";

describe("the change cursor", () => {
  it("a write that commits after a later one is still delivered: the reader stops below the oldest transaction in flight", async () => {
    // A short wait: the transaction held open below stalls every change feed on the server meanwhile.
    const store = await openStore({ changeWaitMs: 20 });
    const start = await store.latestChange();
    // A transaction that writes a task first and commits last, as a producer's slow transaction would.
    const slow = await admin.connect();
    try {
      await slow.query("BEGIN");
      const { rows } = await slow.query(
        `INSERT INTO "${store.schema}".tasks (type, run_after, created_at, updated_at, change_seq)
         VALUES ('slow', 0, 0, 0, pg_current_xact_id()::text::bigint) RETURNING id`,
      );
      const slowId = Number(rows[0].id);
      const [fast] = await insertIds(store, 1);
      // The fast change is committed, but a reader may not pass the slow one, still in flight.
      const early = await store.changesAfter(start, 100);
      expect(early.rows).toEqual([]);
      await slow.query("COMMIT");
      const late = await store.changesAfter(early.cursor, 100);
      expect(late.rows.map((row) => row.id)).toEqual([slowId, fast]);
      expect((await store.changesAfter(late.cursor, 100)).rows).toEqual([]);
    } finally {
      slow.release();
    }
  });

  it("deleting tasks never makes the cursor repeat or skip a change", async () => {
    const store = await openStore();
    const ids = await insertIds(store, 3);
    const first = await store.changesAfter(undefined, 100);
    expect(first.rows.map((row) => row.id)).toEqual(ids);
    for (const id of ids) await store.cancelTask(id);
    await store.deleteFinishedTasks(ids);
    const [next] = await insertIds(store, 1);
    const after = await store.changesAfter(first.cursor, 100);
    expect(after.rows.map((row) => [row.id, row.status])).toEqual([
      [ids[2], "cancelled"],
      [next, "queued"],
    ]);
  });
});
