import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countTasksByStatus, openQueueDatabase } from "@queue/core";
import { afterAll, describe, expect, it } from "vitest";
import { countDuplicates, measureMixed } from "../src/mixed.js";
import { buildScaleFile, measureScale, slopes } from "../src/operations.js";

const directory = mkdtempSync(join(tmpdir(), "bench-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("buildScaleFile", () => {
  it("fills a file with a long-lived queue's mix: mostly completed, some dead letters, some scheduled for later, a few leased", () => {
    const path = join(directory, "built.db");
    buildScaleFile(path, 1_000);
    const db = openQueueDatabase({ path });
    expect(countTasksByStatus(db)).toEqual({ queued: 10, leased: 1, completed: 979, dead_letter: 10, cancelled: 0 });
    const due = db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE status = 'queued' AND run_after <= ?").get(Date.now());
    expect(due?.n).toBe(0);
    db.close();
  });
});

describe("slopes", () => {
  it("divides each figure's median at every size by its median at the smallest", () => {
    const size = (claim: number, drain: number, snapshot: number) => ({
      claimMs: { median: claim, min: 0, max: 0 },
      drainTasksPerSecond: { median: drain, min: 0, max: 0 },
      snapshotMs: { median: snapshot, min: 0, max: 0 },
    });
    const [claim, drain, snapshot] = slopes([size(2, 8_000, 1), size(3, 6_000, 10)], {
      claimBatch: 50,
      drain: 10_000,
      drainConcurrency: 50,
    });
    expect(claim?.ratios).toEqual([1, 1.5]);
    expect(drain?.ratios).toEqual([1, 0.75]);
    expect(snapshot?.ratios).toEqual([1, 10]);
  });
});

describe("measureScale", () => {
  it("measures every size in its own process and leaves each table at the size it was built with", async () => {
    const result = await measureScale(directory, {
      sizes: [200, 400],
      rounds: 2,
      claimBatch: 10,
      claimsPerRound: 3,
      drain: 100,
      drainConcurrency: 10,
      snapshotsPerRound: 2,
    });
    expect(result.sizes.map((size) => size.rows)).toEqual([200, 400]);
    for (const size of result.sizes) {
      expect(size.claimMs.median).toBeGreaterThan(0);
      expect(size.drainTasksPerSecond.median).toBeGreaterThan(0);
      expect(size.rss.selfKiB).toBeGreaterThan(0);
    }
    expect(result.slopes.map((slope) => slope.ratios[0])).toEqual([1, 1, 1]);
    expect(result.cleanup.map((figure) => figure.unit)).toEqual(["rows/s", "rows/s"]);
    const db = openQueueDatabase({ path: join(directory, "scale-200.db") });
    expect(db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks").get()?.n).toBe(200);
    db.close();
  });
});

describe("countDuplicates", () => {
  it("counts the ids seen more than once", () => {
    expect(countDuplicates([1, 2, 3])).toBe(0);
    expect(countDuplicates([1, 2, 2, 3, 3, 3])).toBe(2);
  });
});

describe("measureMixed", () => {
  it("producer and worker processes at once: every task enqueued ran once or is still in the backlog", async () => {
    const result = await measureMixed(directory, { producers: 2, inFlight: 10, workers: 2, concurrency: 10, seconds: 1 });
    expect(result.errors).toEqual([]);
    expect(result.enqueued).toBeGreaterThan(0);
    expect(result.duplicates).toBe(0);
    expect(result.unrecorded).toBe(0);
    expect(result.lost).toBe(0);
    expect(result.processed + result.backlog).toBe(result.enqueued);
  });
});
