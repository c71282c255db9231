import { healthSummary, percentiles, QueueMetrics } from "@queue/observability";
import { PermanentError, Worker } from "@queue/worker-engine";
import { describe, expect, it, vi } from "vitest";
import { harness } from "./helpers.js";

describe("QueueMetrics.snapshot", () => {
  it("reflects depth, throughput, rates, latency and workers after real work", async () => {
    const { db, clock, client } = harness();
    await client.enqueueMany(Array.from({ length: 8 }, (_, n) => ({ type: n < 6 ? "ok" : "bad", payload: n })));
    await client.enqueue("later", null, { delayMs: 60_000 });
    clock.advance(2_000); // the runnable tasks have now waited 2 s
    const worker = new Worker({
      db,
      concurrency: 4,
      handlers: {
        ok: () => {
          clock.advance(100);
          return "fine";
        },
        bad: () => {
          throw new PermanentError("broken input");
        },
      },
    });
    await worker.runUntilEmpty();
    const snapshot = await new QueueMetrics(db, { windowMs: 60_000 }).snapshot();
    expect(snapshot.depth).toEqual({ queued: 1, leased: 0, completed: 6, dead_letter: 2, cancelled: 0 });
    expect(snapshot.activeByType).toEqual([{ type: "later", status: "queued", count: 1 }]);
    expect(snapshot.oldestQueuedAgeMs).toBe(0);
    expect(snapshot.finishedInWindow).toEqual({ completed: 6, deadLettered: 2, cancelled: 0 });
    expect(snapshot.throughputPerMinute).toEqual({ completed: 6, failed: 2 });
    expect(snapshot.rates).toEqual({ success: 0.75, failure: 0.25, retry: 0 });
    // 2 of 8 dead-lettered is above the critical rate, but 8 finished tasks are too few to judge.
    expect(healthSummary(snapshot).reasons.map((reason) => reason.check)).not.toContain("failureRate");
    const busier = { ...snapshot, finishedInWindow: { completed: 15, deadLettered: 5, cancelled: 0 } };
    expect(healthSummary(busier).reasons).toContainEqual(
      expect.objectContaining({ check: "failureRate", status: "critical", value: 0.25 }),
    );
    expect(snapshot.waitTimeMs.p50).toBeGreaterThanOrEqual(2_000);
    expect(snapshot.runTimeMs.p99).toBeGreaterThanOrEqual(100);
    expect(snapshot.workers).toEqual([]);
    expect(snapshot.file.bytes).toBeGreaterThan(0);
  });

  it("reports the age of the longest-waiting runnable task, and ignores tasks not yet due", async () => {
    const { db, clock, client } = harness();
    await client.enqueue("t", 1);
    await client.enqueue("t", 2, { delayMs: 10 * 60_000 });
    clock.advance(90_000);
    const metrics = new QueueMetrics(db);
    expect((await metrics.snapshot()).oldestQueuedAgeMs).toBe(90_000);
  });

  it("shows each worker's heartbeat age, staleness and leased tasks", async () => {
    const { db, clock, client } = harness();
    await client.enqueueMany([
      { type: "hold", payload: 1 },
      { type: "hold", payload: 2 },
    ]);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const worker = new Worker({ db, workerId: "w-1", concurrency: 2, handlers: { hold: () => held } });
    await worker.start();
    await vi.waitFor(() => expect(worker.activeTaskIds).toHaveLength(2));
    clock.advance(120_000);
    const snapshot = await new QueueMetrics(db, { staleWorkerMs: 60_000 }).snapshot();
    expect(snapshot.workers).toEqual([
      { id: "w-1", host: expect.any(String), pid: process.pid, heartbeatAgeMs: 120_000, stale: true, leased: 2 },
    ]);
    expect(snapshot.expiredLeases).toBe(2);
    const health = healthSummary(snapshot);
    expect(health.status).toBe("warn");
    expect(health.reasons.map((reason) => reason.check).sort()).toEqual(["expiredLeases", "staleWorkers"]);
    expect(health.reasons.find((reason) => reason.check === "staleWorkers")?.message).toContain("1 worker(s) stopped sending heartbeats");
    expect(healthSummary(snapshot, { expiredLeases: { warn: 1, critical: 2 } }).status).toBe("critical");
    // Overriding one level keeps the default of the other (warn at 1 expired lease).
    expect(
      healthSummary(snapshot, { expiredLeases: { critical: 50 } }).reasons.find((reason) => reason.check === "expiredLeases"),
    ).toMatchObject({
      status: "warn",
      threshold: 1,
    });
    expect(healthSummary(snapshot, { expiredLeases: { warn: 10, critical: 20 }, staleWorkers: { warn: 5, critical: 9 } })).toEqual({
      status: "ok",
      reasons: [],
    });
    release();
    await worker.stop();
  });

  it("answers every query from an index on a large file, never scanning the tasks table", async () => {
    const { db } = harness();
    db.transactionSync((tx) => {
      const insert = tx.statement(
        "INSERT INTO tasks (type, status, priority, run_after, started_at, finished_at, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, 0, ?)",
      );
      for (let i = 0; i < 200_000; i++) {
        const finished = i % 50 !== 0;
        insert.run(`type-${i % 5}`, finished ? "completed" : "queued", i, finished ? i : null, finished ? i + 5 : null, i);
      }
    });
    const statements: string[] = [];
    const original = db.statement.bind(db);
    vi.spyOn(db, "statement").mockImplementation((sql: string) => {
      statements.push(sql);
      return original(sql);
    });
    await new QueueMetrics(db).snapshot();
    vi.restoreAllMocks();
    const taskQueries = [...new Set(statements)].filter((sql) => /\bFROM tasks\b/.test(sql) && !sql.startsWith("BEGIN"));
    expect(taskQueries.length).toBeGreaterThanOrEqual(6);
    for (const sql of taskQueries) {
      const plan = db.connection
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 0))
        .map((row) => (row as { detail: string }).detail)
        .join("\n");
      expect(plan, sql).not.toMatch(/SCAN tasks(?! USING)/);
      expect(plan, sql).toMatch(/USING (COVERING )?INDEX|USING INTEGER PRIMARY KEY/);
    }
  });
});

describe("percentiles", () => {
  it("takes nearest-rank percentiles", () => {
    const values = Array.from({ length: 100 }, (_, n) => 100 - n);
    expect(percentiles(values)).toEqual({ p50: 50, p95: 95, p99: 99 });
    expect(percentiles([7])).toEqual({ p50: 7, p95: 7, p99: 7 });
    expect(percentiles([])).toEqual({ p50: null, p95: null, p99: null });
  });
});
