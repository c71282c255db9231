// Moving a queue between stores: reading every row page by page, and writing rows exactly as they
// are (ids, statuses, leases, times) on the other side, never as new tasks.
import type { ArchivedTaskRow, QueueStore, TaskLogRow, TaskRow } from "@queue/core";
import { describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { claimOnly, insertIds, leaseOf, storesFor } from "./fixtures.js";

/** Every task, oldest first. */
async function allTasks(store: QueueStore): Promise<TaskRow[]> {
  return store.listTasks({ limit: 10_000, order: "oldest" });
}

/** Every log line, in id order, read a page of `pageSize` at a time. */
async function allLogs(store: QueueStore, pageSize: number): Promise<TaskLogRow[]> {
  const lines: TaskLogRow[] = [];
  for (;;) {
    const page = await store.taskLogPage(lines.at(-1)?.id ?? 0, pageSize);
    if (page.length === 0) return lines;
    expect(page.length).toBeLessThanOrEqual(pageSize);
    lines.push(...page);
  }
}

/** A queue with a task in each status, a pause, and log lines. */
async function populated(store: QueueStore): Promise<void> {
  const [done, failing, , cancelled] = await insertIds(
    store,
    { type: "done", payload: '{"n":1}', idempotencyKey: "key-1" },
    { type: "failing", maxAttempts: 1 },
    { type: "waiting", priority: 7, runAfter: store.clock.now() + 3_600_000, requiredCapabilities: '["gpu"]' },
    { type: "cancelled" },
    { type: "running", timeoutMs: 5_000 },
  );
  await store.cancelTask(cancelled as number);
  const first = await store.recordAndClaim(claimOnly({ types: ["done", "failing"], limit: 2 }));
  await store.appendTaskLog(done as number, "info", "started", '{"step":1}');
  await store.appendTaskLog(failing as number, "error", "broke", null);
  await store.recordAndClaim({
    ...claimOnly({ types: ["running"], limit: 1 }),
    completions: [{ lease: leaseOf(first, done as number), result: '{"ok":true}' }],
    failures: [
      { lease: leaseOf(first, failing as number), failure: { outcome: "dead_letter", error: '{"name":"Error","message":"boom"}' } },
    ],
  });
  await store.pauseType("waiting");
}

export function describeCopyConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);

  describe(`${backend.name} store: copying a queue into another store`, () => {
    it("writes tasks and log lines exactly as they were, and gives new tasks and lines ids above them", async () => {
      const source = await stores.fresh();
      await populated(source);
      const tasks = await allTasks(source);
      expect(new Set(tasks.map((task) => task.status))).toEqual(new Set(["completed", "dead_letter", "queued", "cancelled", "leased"]));
      const logs = await allLogs(source, 1);
      expect(logs.map((line) => line.message)).toEqual(["started", "broke"]);

      const target = await stores.fresh();
      await target.importRows({ tasks, logs });
      expect(await allTasks(target)).toEqual(tasks);
      expect(await allLogs(target, 100)).toEqual(logs);
      expect(await target.countTasksByStatus()).toEqual(await source.countTasksByStatus());
      expect((await target.tasksByIdempotencyKeys(["key-1"])).map((row) => row.id)).toEqual([tasks[0]?.id]);

      const [next] = await insertIds(target, { type: "after" });
      expect(next).toBeGreaterThan(Math.max(...tasks.map((task) => task.id)));
      const line = await target.appendTaskLog(next as number, "info", "new", null);
      expect(line).toBeGreaterThan(Math.max(...logs.map((entry) => entry.id)));
    });

    it("copied queued tasks are claimable, copied leases are the old holder's, and the change cursor sees the copy", async () => {
      const source = await stores.fresh();
      const [queued, leased] = await insertIds(source, { type: "a" }, { type: "b" });
      await source.recordAndClaim(claimOnly({ types: ["b"], limit: 1 }));
      const target = await stores.fresh();
      const cursor = await target.latestChange();
      await target.importRows({ tasks: await allTasks(source) });
      const changes = await target.changesAfter(cursor, 100);
      expect(changes.rows.map((row) => row.id).sort((x, y) => x - y)).toEqual([queued, leased]);
      const tick = await target.recordAndClaim(claimOnly({ workerId: "w2", limit: 10 }));
      expect(tick.claimed.map((task) => task.id)).toEqual([queued]);
      const copiedLease = await target.getTask(leased as number);
      expect(copiedLease).toMatchObject({ status: "leased", locked_by: "w1" });
    });

    it("an id already in use fails the whole write, and nothing of it is stored", async () => {
      const source = await stores.fresh();
      await insertIds(source, { type: "a" }, { type: "b" });
      const rows = await allTasks(source);
      const target = await stores.fresh();
      const [taken] = await insertIds(target, { type: "already here" });
      const clash = rows.map((row, index) => (index === 1 ? { ...row, id: taken as number } : { ...row, id: row.id + 100 }));
      const failure = await target.importRows({ tasks: clash }).catch((error: unknown) => error);
      expect(failure).toMatchObject({ code: expect.stringMatching(/^(UNIQUE_VIOLATION|CONSTRAINT)$/) });
      expect((await allTasks(target)).map((row) => row.type)).toEqual(["already here"]);
    });

    it("archived tasks are written under their ids, and can be restored from there", async () => {
      const source = await stores.fresh();
      const [first, second] = await insertIds(source, { type: "kept" }, { type: "kept" }, { type: "newest" });
      const now = source.clock.now();
      const archived: ArchivedTaskRow[] = [first, second].map((id) => ({
        id: id as number,
        type: "archived",
        priority: 0,
        payload: '{"a":1}',
        status: "completed",
        attempts: 1,
        max_attempts: 3,
        run_after: now - 10_000,
        idempotency_key: null,
        timeout_ms: null,
        required_capabilities: null,
        error: null,
        result: '{"done":true}',
        progress: 0.5,
        created_at: now - 10_000,
        updated_at: now - 5_000,
        started_at: now - 9_000,
        finished_at: now - 5_000,
        trace_parent: null,
        logs: null,
        archived_at: now - 1_000,
      }));
      const target = await stores.fresh();
      const newest = (await allTasks(source)).filter((row) => row.type === "newest");
      await target.importRows({ tasks: newest, archived });
      expect(await target.countArchived()).toBe(2);
      const read = await target.archivedTasks(0, 10);
      expect(read.map((row) => [row.id, row.type, row.result, row.progress, row.archived_at])).toEqual(
        archived.map((row) => [row.id, row.type, row.result, row.progress, row.archived_at]),
      );
      expect(await target.restoreArchivedBatch(undefined, 10)).toEqual([first, second]);
      expect((await target.getTask(first as number))?.status).toBe("completed");
    });
  });
}
