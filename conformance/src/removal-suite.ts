// Taking queued work back out of the queue, and the listings the migration tools read.
import type { QueueStore } from "@queue/core";
import { describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { claimOnly, insertIds, storesFor } from "./fixtures.js";

/** Ids of the tasks the store holds now, ascending. */
async function storedIds(store: QueueStore): Promise<number[]> {
  return (await store.listTasks({ limit: 1_000, order: "oldest" })).map((row) => row.id);
}

export function describeRemovalConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);

  describe(`${backend.name} store: removing queued tasks and listing unfinished work`, () => {
    it("removes only the tasks still queued, with their logs, and hands their ids to the hook before it commits", async () => {
      const store = await stores.fresh();
      const peer = await stores.peer(store);
      const [leased, queued, cancelled, last] = await insertIds(store, { type: "a" }, { type: "b" }, { type: "b" }, { type: "b" });
      await store.recordAndClaim(claimOnly({ types: ["a"], limit: 1 }));
      await store.cancelTask(cancelled as number);
      await store.appendTaskLog(queued as number, "info", "before removal", null);
      const seenInside: number[][] = [];
      const removed = await store.removeQueuedTasks(
        [last as number, leased as number, queued as number, cancelled as number, 999_999],
        (ids) => {
          seenInside.push([...ids]);
        },
      );
      expect(removed).toEqual([last, queued]);
      expect(seenInside).toEqual([[last, queued]]);
      expect(await storedIds(peer)).toEqual([leased, cancelled]);
      expect(await peer.taskLogs(queued as number)).toEqual([]);
    });

    it("keeps every task when the hook throws, and does not call it when nothing was queued", async () => {
      const store = await stores.fresh();
      const ids = await insertIds(store, {}, {});
      const failure = await store
        .removeQueuedTasks(ids, () => {
          throw new Error("the registry could not be written");
        })
        .catch((error: unknown) => error);
      expect((failure as Error).message).toBe("the registry could not be written");
      expect(await storedIds(store)).toEqual(ids);
      let called = false;
      expect(
        await store.removeQueuedTasks([123_456], () => {
          called = true;
        }),
      ).toEqual([]);
      expect(called).toBe(false);
    });

    it("follows a removal with the change cursor: a reader after it sees no removed task again", async () => {
      const store = await stores.fresh();
      const [first, second] = await insertIds(store, {}, {});
      const cursor = await store.latestChange();
      await store.removeQueuedTasks([first as number]);
      const [third] = await insertIds(store, {});
      const changes = await store.changesAfter(cursor, 100);
      expect(changes.rows.map((row) => row.id)).toEqual([third]);
      expect(await storedIds(store)).toEqual([second, third]);
    });

    it("lists the queued and leased tasks of a type prefix in id order, and the registered workers by id", async () => {
      const store = await stores.fresh();
      const [runA, runB, other, done] = await insertIds(store, { type: "run:a" }, { type: "run:b" }, { type: "other" }, { type: "run:c" });
      await store.recordAndClaim(claimOnly({ types: ["run:b"], limit: 1 }));
      await store.cancelTask(done as number);
      expect((await store.listUnfinishedTasks("run:")).map((row) => [row.id, row.status])).toEqual([
        [runA, "queued"],
        [runB, "leased"],
      ]);
      expect((await store.listUnfinishedTasks("")).map((row) => row.id)).toEqual([runA, runB, other]);
      await store.registerWorker({ id: "w-b", host: "h", pid: 2, capabilities: [] });
      await store.registerWorker({ id: "w-a", host: "h", pid: 1, capabilities: ["gpu"] });
      expect((await store.listWorkers()).map((worker) => worker.id)).toEqual(["w-a", "w-b"]);
      await store.deregisterWorker("w-a");
      expect((await store.listWorkers()).map((worker) => worker.id)).toEqual(["w-b"]);
    });
  });
}
