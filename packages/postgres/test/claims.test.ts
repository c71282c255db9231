import { type ClaimOrder, isQueueError, type TickRequest } from "@queue/core";
import { describe, expect, it } from "vitest";
import { PostgresStore } from "../src/index.js";
import { admin, insertIds, newRow, openStore, TEST_URL } from "./helpers.js";

const FIFO: ClaimOrder = { by: [{ column: "run_after", direction: "asc" }] };
const LIFO: ClaimOrder = { by: [{ column: "run_after", direction: "desc" }] };
const PRIORITY: ClaimOrder = {
  by: [
    { column: "priority", direction: "asc" },
    { column: "run_after", direction: "asc" },
  ],
};

function claim(workerId: string, limit: number, order: ClaimOrder = FIFO): TickRequest {
  return { completions: [], failures: [], claim: { workerId, order, leaseMs: 60_000, limit, capabilities: [] } };
}

describe("claims", () => {
  it("claimers on separate pools, racing, take every task exactly once (FOR UPDATE SKIP LOCKED)", async () => {
    const store = await openStore();
    const ids = await insertIds(store, 300);
    const claimers = await Promise.all(
      Array.from({ length: 5 }, () => PostgresStore.open({ url: TEST_URL, schema: store.schema, maxConnections: 3 })),
    );
    try {
      const taken = await Promise.all(
        claimers.map(async (claimer, index) => {
          const mine: number[] = [];
          // Several claims in flight per claimer, as a pipelined worker sends them.
          for (;;) {
            const ticks = await Promise.all([1, 2, 3].map(() => claimer.recordAndClaim(claim(`w${index}`, 7))));
            const got = ticks.flatMap((tick) => tick.claimed.map((task) => task.id));
            if (got.length === 0) return mine;
            mine.push(...got);
          }
        }),
      );
      const all = taken.flat().sort((a, b) => a - b);
      expect(all).toEqual(ids);
      expect(taken.filter((mine) => mine.length > 0).length).toBeGreaterThan(1);
      expect(await store.countTasksByStatus()).toMatchObject({ queued: 0, leased: 300 });
    } finally {
      await Promise.all(claimers.map((claimer) => claimer.close()));
    }
  });

  it("a claim passes over rows another transaction holds instead of waiting for it", async () => {
    const store = await openStore();
    const ids = await insertIds(store, 4);
    const holder = await admin.connect();
    try {
      await holder.query("BEGIN");
      await holder.query(`SELECT id FROM "${store.schema}".tasks WHERE id = ANY($1) FOR UPDATE`, [ids.slice(0, 2)]);
      const started = Date.now();
      const tick = await store.recordAndClaim(claim("w", 10));
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(tick.claimed.map((task) => task.id).sort((a, b) => a - b)).toEqual(ids.slice(2));
    } finally {
      await holder.query("ROLLBACK");
      holder.release();
    }
    const later = await store.recordAndClaim(claim("w", 10));
    expect(later.claimed.map((task) => task.id).sort((a, b) => a - b)).toEqual(ids.slice(0, 2));
  });

  it("takes tasks in the claim's order: oldest, newest, by priority, or a weighted draw", async () => {
    // Each order on a fresh queue of the same four tasks (priorities 3, 1, 2, 1, oldest first).
    const firstClaimed = async (order: ClaimOrder) => {
      const store = await openStore();
      const now = store.clock.now();
      const { rows } = await store.insertTasks(
        [3, 1, 2, 1].map((priority, index) => newRow(store, { priority, runAfter: now - 1000 + index })),
      );
      const tick = await store.recordAndClaim(claim("w", 1, order));
      return { ids: rows as number[], id: tick.claimed[0]?.id };
    };
    const fifo = await firstClaimed(FIFO);
    expect(fifo.id).toBe(fifo.ids[0]);
    const lifo = await firstClaimed(LIFO);
    expect(lifo.id).toBe(lifo.ids[3]);
    const priority = await firstClaimed(PRIORITY);
    expect(priority.id).toBe(priority.ids[1]);
    const weighted = await firstClaimed({ ...FIFO, draw: { kind: "weighted_by_priority", window: 4 } });
    expect(weighted.ids).toContain(weighted.id);
  });

  it("refuses an order that is not valid data with INVALID_CONFIG", async () => {
    const store = await openStore();
    await insertIds(store, 1);
    const bad = { by: [{ column: "payload; DROP TABLE tasks", direction: "asc" }] } as unknown as ClaimOrder;
    const error = await store.recordAndClaim(claim("w", 1, bad)).catch((thrown: unknown) => thrown);
    expect(isQueueError(error, "INVALID_CONFIG")).toBe(true);
    expect((await store.countTasksByStatus()).queued).toBe(1);
  });

  it("honours pauses (one type, every type), types and required capabilities", async () => {
    const store = await openStore();
    const [a] = await insertIds(store, 1, { type: "a" });
    const [b] = await insertIds(store, 1, { type: "b", requiredCapabilities: '["gpu"]' });
    const request = (capabilities: string[], types?: string[]): TickRequest => ({
      completions: [],
      failures: [],
      claim: { workerId: "w", order: FIFO, leaseMs: 60_000, limit: 10, capabilities, ...(types === undefined ? {} : { types }) },
    });
    await store.pauseType("*");
    expect((await store.probeClaimable({ capabilities: ["gpu"] })).claimable).toBe(false);
    expect((await store.recordAndClaim(request(["gpu"]))).claimed).toEqual([]);
    await store.resumeType("*");
    await store.pauseType("a");
    expect((await store.recordAndClaim(request([]))).claimed).toEqual([]);
    expect((await store.recordAndClaim(request(["gpu"], ["a"]))).claimed).toEqual([]);
    const gpu = await store.recordAndClaim(request(["gpu", "x"]));
    expect(gpu.claimed.map((task) => task.id)).toEqual([b]);
    await store.resumeType("a");
    expect((await store.recordAndClaim(request([], ["a"]))).claimed.map((task) => task.id)).toEqual([a]);
  });
});
