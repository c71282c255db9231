// How a worker finds and takes work, through the port alone: claims (order, limit, filters,
// pauses, concurrent claimers), the probe an idle worker polls, the write mark and wake-ups.
import { EVERY_TYPE, type QueueStore, taskFromRow } from "@queue/core";
import { BUILT_IN_STRATEGIES, type SchedulingStrategy } from "@queue/scheduling";
import { describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { claimedIds, claimOnly, claimOrder, eventually, insertIds, leaseOf, sleep, storesFor, taskRows, untilPast } from "./fixtures.js";

/** Claims one task at a time with `strategy`'s order until none is left; resolves with their ids in claim order. */
async function claimOneByOne(store: QueueStore, strategy: SchedulingStrategy): Promise<number[]> {
  const ids: number[] = [];
  for (;;) {
    const { claimed } = await store.recordAndClaim(claimOnly({ order: claimOrder(strategy), limit: 1 }));
    if (claimed.length === 0) return ids;
    expect(claimed).toHaveLength(1);
    ids.push(claimed[0]?.id as number);
  }
}

export function describeClaimConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);

  describe(`${backend.name} store: claims`, () => {
    /** Runnable tasks differing in priority and run_after, with ties broken only by id. */
    const mixed = (now: number) => [
      { priority: 5, runAfter: now - 3_000 },
      { priority: 1, runAfter: now - 1_000 },
      { priority: 1, runAfter: now - 3_000 },
      { priority: 5, runAfter: now - 1_000 },
      { priority: 0, runAfter: now - 2_000 },
      { priority: 1, runAfter: now - 3_000 },
    ];

    for (const strategy of BUILT_IN_STRATEGIES) {
      const { compare } = strategy;
      if (compare === undefined) continue;
      it(`claims in the ${strategy.name} strategy's order, no more than the limit at a time`, async () => {
        const store = await stores.fresh();
        const ids = await insertIds(store, ...mixed(store.clock.now()));
        const expected = (await taskRows(store, ids))
          .map((row) => taskFromRow(row))
          .sort(compare)
          .map((task) => task.id);
        const first = await store.recordAndClaim(claimOnly({ order: claimOrder(strategy), limit: 2 }));
        expect(claimedIds(first)).toEqual(expected.slice(0, 2).sort((a, b) => a - b));
        expect(await claimOneByOne(store, strategy)).toEqual(expected.slice(2));
      });
    }

    for (const strategy of BUILT_IN_STRATEGIES.filter((candidate) => candidate.compare === undefined)) {
      it(`${strategy.name}: draws every runnable task once, far more urgent priorities first`, async () => {
        const store = await stores.fresh();
        const now = store.clock.now();
        // Weight 1 against 1e-9: an urgent task loses a draw about once in a billion.
        const lazy = await insertIds(store, ...Array.from({ length: 5 }, () => ({ priority: 1_000_000_000, runAfter: now - 10_000 })));
        const urgent = await insertIds(store, ...Array.from({ length: 5 }, () => ({ priority: 0, runAfter: now - 5_000 })));
        const order = await claimOneByOne(store, strategy);
        expect([...order].sort((a, b) => a - b)).toEqual([...lazy, ...urgent]);
        expect(order.slice(0, 5).sort((a, b) => a - b)).toEqual(urgent);
      });
    }

    it("never claims a task whose run_after is in the future, and answers when the next one falls due", async () => {
      const store = await stores.fresh();
      const now = store.clock.now();
      const [due, later] = await insertIds(store, { runAfter: now - 1 }, { runAfter: now + 60_000 });
      const tick = await store.recordAndClaim(claimOnly());
      expect(claimedIds(tick)).toEqual([due]);
      expect(tick.nextDue).toBe(now + 60_000);
      expect(await store.getTask(later as number)).toMatchObject({ status: "queued", attempts: 0 });
    });

    it("claims only the types asked for: one type, or a list", async () => {
      const store = await stores.fresh();
      const [a, b, c] = await insertIds(store, { type: "a" }, { type: "b" }, { type: "c" });
      expect(claimedIds(await store.recordAndClaim(claimOnly({ types: ["b"] })))).toEqual([b]);
      expect(claimedIds(await store.recordAndClaim(claimOnly({ types: ["c", "a", "z"] })))).toEqual([a, c]);
      expect((await store.recordAndClaim(claimOnly({ types: ["b"] }))).claimed).toEqual([]);
    });

    it("claims only tasks whose required capabilities the worker has", async () => {
      const store = await stores.fresh();
      const [none, empty, gpu, both, ssd] = await insertIds(
        store,
        { requiredCapabilities: null },
        { requiredCapabilities: "[]" },
        { requiredCapabilities: '["gpu"]' },
        { requiredCapabilities: '["gpu","ssd"]' },
        { requiredCapabilities: '["ssd"]' },
      );
      expect(claimedIds(await store.recordAndClaim(claimOnly({ capabilities: [] })))).toEqual([none, empty]);
      expect(claimedIds(await store.recordAndClaim(claimOnly({ capabilities: ["gpu"] })))).toEqual([gpu]);
      expect(claimedIds(await store.recordAndClaim(claimOnly({ capabilities: ["ssd", "gpu", "tpu"] })))).toEqual([both, ssd]);
    });

    it("skips a paused type (paused by a peer) and every type under the pause of all, and claims them once resumed", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const [a, b, c] = await insertIds(store, { type: "a" }, { type: "b" }, { type: "c" });
      await other.pauseType("a");
      expect(claimedIds(await store.recordAndClaim(claimOnly({ limit: 1, types: ["a", "b"] })))).toEqual([b]);
      await other.pauseType(EVERY_TYPE);
      expect((await store.recordAndClaim(claimOnly())).claimed).toEqual([]);
      await other.resumeType(EVERY_TYPE);
      expect(claimedIds(await store.recordAndClaim(claimOnly()))).toEqual([c]);
      await store.resumeType("a");
      expect(claimedIds(await store.recordAndClaim(claimOnly()))).toEqual([a]);
    });

    it("leases every claimed task under the answer's one token, counting an attempt", async () => {
      const store = await stores.fresh();
      const ids = await insertIds(store, {}, {}, {});
      const before = store.clock.now();
      const tick = await store.recordAndClaim(claimOnly({ workerId: "w7", leaseMs: 45_000 }));
      const lease = tick.lease;
      expect(lease).toMatchObject({ workerId: "w7", token: expect.any(String) });
      expect(lease?.now).toBeGreaterThanOrEqual(before);
      expect(lease?.leaseUntil).toBe((lease?.now as number) + 45_000);
      expect(claimedIds(tick)).toEqual(ids);
      for (const task of tick.claimed) {
        expect(task).toMatchObject({ status: "leased", attempts: 1, lockedBy: "w7", leaseUntil: new Date(lease?.leaseUntil as number) });
      }
      for (const row of await taskRows(store, ids)) {
        expect(row).toMatchObject({ status: "leased", attempts: 1, locked_by: "w7", lease_token: lease?.token });
      }
      const [first] = ids as [number];
      const retry = { outcome: "retry" as const, error: '{"name":"E","message":"again"}', runAfter: store.clock.now() - 1 };
      const again = await store.recordAndClaim({ ...claimOnly({ limit: 1 }), failures: [{ lease: leaseOf(tick, first), failure: retry }] });
      expect(again.claimed).toEqual([expect.objectContaining({ id: first, attempts: 2 })]);
      expect(again.lease?.token).not.toBe(lease?.token);
    });

    it("two stores claiming at once, in many rounds, lease each task exactly once", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const ids = await insertIds(store, ...Array.from({ length: 300 }, () => ({})));
      const taken: number[] = [];
      const claimer = async (claimant: QueueStore, workerId: string) => {
        let empty = 0;
        // Each claimant goes on until it has found nothing twice, so none stops while the other still claims.
        while (empty < 2) {
          const { claimed } = await claimant.recordAndClaim(claimOnly({ workerId, limit: 3 }));
          taken.push(...claimed.map((task) => task.id));
          empty = claimed.length === 0 ? empty + 1 : 0;
        }
      };
      await Promise.all([claimer(store, "w1"), claimer(other, "w2"), claimer(store, "w3"), claimer(other, "w4")]);
      expect(taken).toHaveLength(ids.length);
      expect([...taken].sort((a, b) => a - b)).toEqual(ids);
      expect(await store.countTasksByStatus()).toMatchObject({ queued: 0, leased: ids.length });
    });
  });

  describe(`${backend.name} store: probes, write marks and wake-ups`, () => {
    it("probeClaimable: nothing now and when the next task falls due, or claimable once one is due", async () => {
      const store = await stores.fresh();
      expect(await store.probeClaimable({ capabilities: [] })).toEqual({ claimable: false, nextDue: null });
      const runAfter = store.clock.now() + 60_000;
      await insertIds(store, { runAfter });
      expect(await store.probeClaimable({ capabilities: [] })).toEqual({ claimable: false, nextDue: runAfter });
      const soon = store.clock.now() + 30;
      await insertIds(store, { runAfter: soon });
      await untilPast(store, soon);
      expect(await store.probeClaimable({ capabilities: [] })).toEqual({ claimable: true });
    });

    it("probeClaimable follows the claim's filters: types, capabilities and pauses", async () => {
      const store = await stores.fresh();
      const runAfter = store.clock.now() + 60_000;
      await insertIds(store, { type: "a", runAfter }, { type: "b" }, { type: "c", requiredCapabilities: '["gpu"]' });
      expect(await store.probeClaimable({ types: ["a"], capabilities: [] })).toEqual({ claimable: false, nextDue: runAfter });
      expect(await store.probeClaimable({ types: ["a", "b"], capabilities: [] })).toEqual({ claimable: true });
      expect(await store.probeClaimable({ types: ["c"], capabilities: [] })).toMatchObject({ claimable: false });
      expect(await store.probeClaimable({ types: ["c"], capabilities: ["gpu"] })).toEqual({ claimable: true });
      await store.pauseType("b");
      expect(await store.probeClaimable({ types: ["b"], capabilities: [] })).toMatchObject({ claimable: false });
    });

    it("probeClaimable: a lease's expiry is when work comes next, and an expired lease is work to take", async () => {
      const store = await stores.fresh();
      await insertIds(store, { type: "long" }, { type: "short" });
      const held = await store.recordAndClaim(claimOnly({ types: ["long"] }));
      expect(await store.probeClaimable({ capabilities: [] })).toMatchObject({ claimable: true });
      const expiring = await store.recordAndClaim(claimOnly({ types: ["short"], leaseMs: 30 }));
      expect(expiring.claimed).toHaveLength(1);
      await untilPast(store, expiring.lease?.leaseUntil as number);
      expect(await store.probeClaimable({ capabilities: [] })).toEqual({ claimable: true });
      await store.recordAndClaim(claimOnly({ limit: 0 }));
      expect(await store.probeClaimable({ types: ["long"], capabilities: [] })).toEqual({
        claimable: false,
        nextDue: held.lease?.leaseUntil,
      });
    });

    it("writeMark stays the same while no one else writes, and changes when a peer does", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const mark = await store.writeMark();
      expect(await store.writeMark()).toBe(mark);
      await insertIds(other, {});
      const afterInsert = await store.writeMark();
      expect(afterInsert).not.toBe(mark);
      expect(await store.writeMark()).toBe(afterInsert);
      await other.pauseType("x");
      expect(await store.writeMark()).not.toBe(afterInsert);
    });

    it("a claim's writeMark compares with later writeMark calls", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      await insertIds(store, {}, {});
      const tick = await store.recordAndClaim(claimOnly({ limit: 1 }));
      expect(tick.claimed).toHaveLength(1);
      expect(tick.writeMark).toBeTypeOf("number");
      expect(await store.writeMark()).toBe(tick.writeMark);
      await other.cancelTask(tick.claimed[0]?.id as number);
      expect(await store.writeMark()).not.toBe(tick.writeMark);
    });

    it("onWork calls its listener for work enqueued (here or by a peer), retried or resumed, until unsubscribed", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      let calls = 0;
      const stop = store.onWork(() => calls++);
      const fires = async (action: () => Promise<unknown>) => {
        const before = calls;
        await action();
        await eventually(() => calls > before);
      };
      const [id] = await insertIds(store, { maxAttempts: 1 });
      await fires(() => insertIds(store, {}));
      await fires(() => insertIds(other, {}));
      const tick = await store.recordAndClaim(claimOnly({ limit: 1 }));
      const failure = { outcome: "dead_letter" as const, error: '{"name":"E","message":"no"}' };
      await store.recordAndClaim({ completions: [], failures: [{ lease: leaseOf(tick, id as number), failure }] });
      await fires(() => store.retryDeadLetterTask(id as number));
      await store.pauseType("a");
      await fires(() => store.resumeType("a"));
      stop();
      const stopped = calls;
      await insertIds(store, {});
      await sleep(50);
      expect(calls).toBe(stopped);
    });
  });
}
