import {
  checkpoint,
  cleanupStaleWorkers,
  databaseStats,
  deadLetterSummary,
  incrementalVacuum,
  integrityCheck,
  optimize,
  purgeAllDeadLetters,
  recoverExpiredLeasesNow,
  retryAllDeadLetters,
  vacuum,
} from "@queue/maintenance";
import { priority } from "@queue/scheduling";
import { claim } from "@queue/worker-engine";
import { describe, expect, it } from "vitest";
import { DAY, harness, insertFinished } from "./helpers.js";

describe("dead-letter review", () => {
  it("groups dead letters by type and error, retries by type, and purges", async () => {
    const { db, clock, client } = harness();
    const timeout = '{"name":"TimeoutError","message":"too slow"}';
    insertFinished(db, 4, "dead_letter", clock.now(), { type: "email", error: timeout });
    insertFinished(db, 2, "dead_letter", clock.now(), { type: "email", error: '{"name":"Error","message":"bad address"}' });
    insertFinished(db, 3, "dead_letter", clock.now(), { type: "resize", error: timeout });
    await client.enqueue("keeper", null);
    const summary = await deadLetterSummary(db);
    expect(summary.map((group) => [group.type, group.errorName, group.count])).toEqual([
      ["email", "TimeoutError", 4],
      ["resize", "TimeoutError", 3],
      ["email", "Error", 2],
    ]);
    expect(await deadLetterSummary(db, { type: "resize" })).toHaveLength(1);
    expect(await retryAllDeadLetters(db, { type: "resize", batchSize: 2 })).toBe(3);
    expect(await client.counts()).toMatchObject({ queued: 4, dead_letter: 6 });
    expect(await purgeAllDeadLetters(db, { type: "email" })).toBe(6);
    expect((await client.counts()).dead_letter).toBe(0);
  });
});

describe("recovery", () => {
  it("recovers expired leases on demand and says what became of each task", async () => {
    const { db, clock, client } = harness();
    await client.enqueue("t", 1, { maxAttempts: 3 });
    await client.enqueue("t", 2, { maxAttempts: 1 });
    db.transactionSync((tx) => claim(tx, { workerId: "gone", strategy: priority, leaseMs: 1_000, limit: 2, capabilities: [] }));
    clock.advance(2_000);
    const report = await recoverExpiredLeasesNow(db);
    expect(report.requeued.map((task) => task.payload)).toEqual([1]);
    expect(report.deadLettered.map((task) => task.payload)).toEqual([2]);
    expect(report.cancelled).toEqual([]);
  });

  it("removes workers whose heartbeat is stale", async () => {
    const { db, clock } = harness();
    db.transactionSync((tx) =>
      tx
        .statement("INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES ('old', 'h', 1, 0, ?), ('new', 'h', 2, 0, ?)")
        .run(clock.now() - DAY, clock.now()),
    );
    expect(await cleanupStaleWorkers(db, 60_000)).toEqual(["old"]);
  });
});

describe("storage", () => {
  it("checkpoints the WAL, reports file statistics, vacuums and checks integrity", async () => {
    const { db, clock } = harness();
    const ids = insertFinished(db, 2_000, "completed", clock.now());
    expect(databaseStats(db)).toMatchObject({ autoVacuum: "incremental", pageSize: 4096 });
    expect(databaseStats(db).walBytes).toBeGreaterThan(0);
    const result = checkpoint(db, "TRUNCATE");
    expect(result).toMatchObject({ mode: "TRUNCATE", busy: false });
    expect(databaseStats(db).walBytes).toBe(0);
    db.transactionSync((tx) => tx.statement("DELETE FROM tasks WHERE id < ?").run(ids[1_900]));
    expect(databaseStats(db).freelistCount).toBeGreaterThan(0);
    expect((await incrementalVacuum(db)).freedPages).toBeGreaterThan(0);
    expect(databaseStats(db).freelistCount).toBe(0);
    optimize(db);
    optimize(db, { analyze: true });
    const vacuumed = vacuum(db);
    expect(vacuumed.after.pageCount).toBeLessThanOrEqual(vacuumed.before.pageCount);
    expect(integrityCheck(db)).toEqual({ ok: true, problems: [] });
    expect(integrityCheck(db, { quick: true }).ok).toBe(true);
    expect(() => checkpoint(db, "SOMETIMES" as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
