import { type ClaimOrder, isQueueError, SqliteStore } from "@queue/core";
import { tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { migrateBackend } from "../src/index.js";

const OLDEST_FIRST: ClaimOrder = { by: [{ column: "id", direction: "asc" }] };
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

function open(): SqliteStore {
  const store = SqliteStore.open({ path: tempDbPath() });
  stores.push(store);
  return store;
}

/** A queue with a completed, a dead-lettered, a cancelled and two queued tasks, log lines, an archived task and a pause. */
async function populated(): Promise<SqliteStore> {
  const store = open();
  const now = store.clock.now();
  const row = (type: string) => ({
    type,
    priority: 0,
    payload: JSON.stringify({ type }),
    maxAttempts: 3,
    runAfter: now,
    idempotencyKey: `key-${type}`,
    timeoutMs: null,
    requiredCapabilities: null,
    traceParent: null,
  });
  await store.insertTasks(["archived", "done", "failing", "cancelled", "queued", "last"].map(row));
  await store.cancelTask(4);
  const tick = await store.recordAndClaim({
    completions: [],
    failures: [],
    claim: { workerId: "w1", order: OLDEST_FIRST, leaseMs: 60_000, limit: 3, capabilities: [] },
  });
  const lease = (taskId: number) => ({ taskId, token: tick.lease?.token as string, workerId: "w1" });
  await store.appendTaskLog(1, "info", "into the archive", null);
  await store.appendTaskLog(2, "info", "done", '{"ms":3}');
  await store.appendTaskLog(3, "error", "broke", null);
  await store.recordAndClaim({
    completions: [
      { lease: lease(1), result: "1" },
      { lease: lease(2), result: "2" },
    ],
    failures: [{ lease: lease(3), failure: { outcome: "dead_letter", error: '{"name":"Error","message":"boom"}' } }],
  });
  await store.removeFinishedBatch({ status: "completed", before: store.clock.now() + 1, limit: 1, archive: true });
  await store.pauseType("queued");
  return store;
}

describe("migrateBackend", () => {
  it("copies every task, log line, archived task and pause as it is, and verifies the copy by counts and checksums", async () => {
    const source = await populated();
    const target = open();
    const progress: number[] = [];
    const report = await migrateBackend(source, target, { batchSize: 2, onProgress: (copied) => progress.push(copied.tasks) });
    expect(report).toMatchObject({ tasks: 5, logs: 2, archived: 1, paused: ["queued"], leased: 0 });
    expect(report.byStatus).toEqual({ queued: 2, leased: 0, completed: 1, dead_letter: 1, cancelled: 1 });
    expect(report.checksums.tasks).toMatch(/^[0-9a-f]{64}$/);
    expect(progress.slice(0, 3)).toEqual([2, 4, 5]);
    expect(await target.listTasks({ limit: 100, order: "oldest" })).toEqual(await source.listTasks({ limit: 100, order: "oldest" }));
    expect(await target.taskLogPage(0, 100)).toEqual(await source.taskLogPage(0, 100));
    expect(await target.archivedTasks(0, 100)).toEqual(await source.archivedTasks(0, 100));
    expect(await target.pausedTypes()).toEqual(["queued"]);
    // A copy of the copy has the same checksums.
    const again = await migrateBackend(target, open());
    expect(again.checksums).toEqual(report.checksums);
  });

  it("refuses while workers hold leases, unless forced; refuses a target that is not empty; never writes to the source", async () => {
    const source = open();
    await source.insertTasks([
      {
        type: "long",
        priority: 0,
        payload: "{}",
        maxAttempts: 3,
        runAfter: source.clock.now(),
        idempotencyKey: null,
        timeoutMs: null,
        requiredCapabilities: null,
        traceParent: null,
      },
    ]);
    await source.recordAndClaim({
      completions: [],
      failures: [],
      claim: { workerId: "w1", order: OLDEST_FIRST, leaseMs: 60_000, limit: 1, capabilities: [] },
    });
    const before = await source.listTasks({ limit: 10, order: "oldest" });
    const target = open();
    const refused = await migrateBackend(source, target).catch((error: unknown) => error);
    expect(isQueueError(refused, "INVALID_STATE")).toBe(true);
    expect((refused as Error).message).toMatch(/1 task is leased by workers/);
    expect(await target.countTasksByStatus()).toMatchObject({ leased: 0, queued: 0 });
    expect(await migrateBackend(source, target, { force: true })).toMatchObject({ tasks: 1, leased: 1 });
    const full = await migrateBackend(source, target, { force: true }).catch((error: unknown) => error);
    expect(isQueueError(full, "INVALID_STATE")).toBe(true);
    expect((full as Error).message).toMatch(/already holds 1 task\(s\)/);
    expect(await source.listTasks({ limit: 10, order: "oldest" })).toEqual(before);
  });

  it("a source that changes while it is copied fails the verification with INVALID_DATA", async () => {
    const source = await populated();
    let changed = false;
    const failure = await migrateBackend(source, open(), {
      batchSize: 2,
      onProgress: () => {
        if (changed) return;
        changed = true;
        void source.retryDeadLetterTask(3); // already copied as dead-lettered
      },
    }).catch((error: unknown) => error);
    expect(isQueueError(failure, "INVALID_DATA")).toBe(true);
    expect((failure as Error).message).toMatch(/does not match/);
  });
});
