// Metrics, task logs, the change cursor and the maintenance batches, through the port alone.
import type { FinishedTaskRecord, QueueStore } from "@queue/core";
import { describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { newRow, storesFor } from "./fixtures.js";

async function insert(store: QueueStore, count: number, type = "work"): Promise<number[]> {
  const { rows } = await store.insertTasks(
    Array.from({ length: count }, (_, n) => newRow(store, { type, payload: JSON.stringify({ n }) })),
  );
  return rows as number[];
}

export function describeMaintenanceConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);

  describe(`${backend.name} store: metrics, logs and changes`, () => {
    it("reads every metric in one call: depth, active types, finished counts and the oldest runnable task", async () => {
      const store = await stores.fresh();
      const ids = await insert(store, 3, "a");
      await insert(store, 1, "b");
      await store.cancelTask(ids[0] as number);
      const reading = await store.readMetrics({ since: 0, latencySample: 100 });
      expect(reading.depth).toMatchObject({ queued: 3, cancelled: 1, leased: 0 });
      expect([...reading.activeByType].sort((x, y) => x.type.localeCompare(y.type))).toEqual([
        { type: "a", status: "queued", count: 2 },
        { type: "b", status: "queued", count: 1 },
      ]);
      expect(reading.finished).toEqual({ completed: 0, dead_letter: 0, cancelled: 1 });
      expect(reading.oldestRunnableSince).not.toBeNull();
      expect(reading.now).toBeGreaterThanOrEqual(reading.oldestRunnableSince as number);
      expect(reading.expiredLeases).toBe(0);
      expect(reading.workers).toEqual([]);
    });

    it("appends log lines, reads a task's oldest first and the newest of any task by level, and deletes old ones in batches", async () => {
      const store = await stores.fresh();
      const [id] = await insert(store, 1);
      await store.appendTaskLog(id as number, "info", "one", '{"step":1}');
      await store.appendTaskLog(id as number, "error", "two", null);
      await store.appendTaskLog(id as number, "warn", "three", null);
      expect((await store.taskLogs(id as number)).map((line) => [line.level, line.message, line.details])).toEqual([
        ["info", "one", '{"step":1}'],
        ["error", "two", null],
        ["warn", "three", null],
      ]);
      expect((await store.recentTaskLogs(10, ["error", "warn"])).map((line) => line.message)).toEqual(["three", "two"]);
      expect(await store.countTaskLogsBefore(store.clock.now() + 1)).toBe(3);
      expect(await store.deleteTaskLogsBefore(store.clock.now() + 1, 2)).toBe(2);
      expect(await store.deleteTaskLogsBefore(store.clock.now() + 1, 2)).toBe(1);
    });

    it("delivers every change exactly once, in commit order, however close together (200 rounds)", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      let cursor = await store.latestChange();
      for (let round = 0; round < 200; round++) {
        const ids = await insert(other, 2);
        const first = await store.changesAfter(cursor, 100);
        expect(first.rows.map((row) => row.id)).toEqual(ids);
        // A change to the lower id right after the higher one was read.
        await other.cancelTask(ids[0] as number);
        const second = await store.changesAfter(first.cursor, 100);
        expect(
          second.rows.map((row) => [row.id, row.status]),
          `round ${round}`,
        ).toEqual([[ids[0], "cancelled"]]);
        cursor = second.cursor;
      }
    });

    it("follows changes from any connection with the change cursor, from the start or from now", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const [first] = await insert(store, 1);
      const now = await store.latestChange();
      const start = await store.changesAfter(undefined, 100);
      expect(start.rows.map((row) => row.id)).toEqual([first]);
      const added = await insert(other, 2);
      const fromNow = await store.changesAfter(now, 100);
      expect(fromNow.rows.map((row) => row.id)).toEqual(added);
      expect((await store.changesAfter(fromNow.cursor, 100)).rows).toEqual([]);
      // At once, most often in the same millisecond as the inserts: a change to a lower id than the
      // last one read must still come next.
      await other.cancelTask(added[0] as number);
      const cancelled = await store.changesAfter(fromNow.cursor, 100);
      expect(cancelled.rows.map((row) => [row.id, row.status])).toEqual([[added[0], "cancelled"]]);
    });
  });

  describe(`${backend.name} store: maintenance batches`, () => {
    it("removes finished tasks in batches, never the newest, handing each batch to beforeDelete first and archiving it", async () => {
      const store = await stores.fresh();
      const ids = await insert(store, 5);
      for (const id of ids) await store.cancelTask(id);
      const later = store.clock.now() + 1;
      expect(await store.countFinishedBefore("cancelled", later)).toBe(4);
      const seen: FinishedTaskRecord[][] = [];
      const batch = {
        status: "cancelled" as const,
        before: later,
        limit: 3,
        archive: true,
        beforeDelete: (records: readonly FinishedTaskRecord[]) => void seen.push([...records]),
      };
      expect(await store.removeFinishedBatch(batch)).toEqual({ deleted: 3, archived: 3 });
      expect(await store.removeFinishedBatch(batch)).toEqual({ deleted: 1, archived: 1 });
      expect(await store.removeFinishedBatch(batch)).toEqual({ deleted: 0, archived: 0 });
      expect(seen.map((records) => records.map((record) => record.task.id))).toEqual([ids.slice(0, 3), ids.slice(3, 4)]);
      expect((await store.getTask(ids[4] as number))?.status).toBe("cancelled");
      expect(await store.countArchived()).toBe(4);
      expect((await store.archivedTasks(0, 10)).map((row) => row.id)).toEqual(ids.slice(0, 4));
    });

    it("keeps a batch whose beforeDelete throws, whole", async () => {
      const store = await stores.fresh();
      const ids = await insert(store, 3);
      for (const id of ids) await store.cancelTask(id);
      const failing = store.removeFinishedBatch({
        status: "cancelled",
        before: store.clock.now() + 1,
        limit: 10,
        archive: true,
        beforeDelete: () => {
          throw new Error("disk full");
        },
      });
      await expect(failing).rejects.toThrow("disk full");
      expect((await store.countTasksByStatus()).cancelled).toBe(3);
      expect(await store.countArchived()).toBe(0);
    });

    it("restores archived tasks under their ids, skipping ids in use", async () => {
      const store = await stores.fresh();
      const ids = await insert(store, 3);
      for (const id of ids) await store.cancelTask(id);
      await store.removeFinishedBatch({ status: "cancelled", before: store.clock.now() + 1, limit: 10, archive: true });
      expect(await store.restoreArchivedBatch([ids[0] as number], 10)).toEqual([ids[0]]);
      expect((await store.getTask(ids[0] as number))?.status).toBe("cancelled");
      expect(await store.countArchived()).toBe(1);
    });

    it("records when maintenance jobs ran", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      await store.recordMaintenanceRun("cleanup", 1_000, '{"removed":3}');
      await store.recordMaintenanceRun("cleanup", 2_000, null);
      expect(await other.maintenanceRuns()).toEqual(new Map([["cleanup", 2_000]]));
    });

    it("reports no dead letters, stale workers or expired leases on a fresh store", async () => {
      const store = await stores.fresh();
      await insert(store, 2);
      expect(await store.deadLetterGroups()).toEqual([]);
      expect(await store.retryDeadLetterBatch(undefined, 10)).toEqual([]);
      expect(await store.purgeDeadLetterBatch(undefined, 10)).toBe(0);
      expect(await store.recoverExpiredLeases()).toEqual([]);
      expect(await store.deleteStaleWorkers(store.clock.now())).toEqual([]);
    });
  });
}
