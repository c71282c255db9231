// The lease-token rule, through the port alone: only the current holder of a task's lease may
// record its outcome, renew it, or write its progress and log; leases that run out are recovered.
import { type Failure, type Lease, type QueueStore, type TaskRow, taskFromRow } from "@queue/core";
import { describe, expect, it } from "vitest";
import type { ConformanceBackend } from "./backend.js";
import { claimedIds, claimOnly, insertIds, leaseOf, storesFor, taskRows, untilPast } from "./fixtures.js";

const ERROR = '{"name":"Error","message":"it failed"}';

/** A tick that only records these failures. */
function failing(store: QueueStore, ...failures: { lease: Lease; failure: Failure }[]) {
  return store.recordAndClaim({ completions: [], failures });
}

/** A tick that only records these completions. */
function completing(store: QueueStore, ...completions: { lease: Lease; result: string }[]) {
  return store.recordAndClaim({ completions, failures: [] });
}

/** A retry that may run again at once. */
function retryNow(store: QueueStore): Failure {
  return { outcome: "retry", error: ERROR, runAfter: store.clock.now() - 1 };
}

/** Two tasks leased by worker w1: `expired` (type "short"), whose 30 ms lease has run out, and `held` (type "long"), leased for a minute. */
async function expiredBesideHeld(store: QueueStore) {
  const [expired, held] = (await insertIds(store, { type: "short" }, { type: "long" })) as [number, number];
  const expiring = await store.recordAndClaim(claimOnly({ types: ["short"], leaseMs: 30 }));
  // Without recovery: on a slow machine the first lease may have run out already.
  const lasting = await store.recordAndClaim(claimOnly({ types: ["long"], recover: false }));
  await untilPast(store, expiring.lease?.leaseUntil as number);
  return { expired, held, expiredLease: leaseOf(expiring, expired), heldLease: leaseOf(lasting, held) };
}

export function describeLeaseConformance(backend: ConformanceBackend): void {
  const stores = storesFor(backend);

  describe(`${backend.name} store: the lease-token rule`, () => {
    it("a completion or failure under a wrong token records nothing and leaves the task as it was", async () => {
      const store = await stores.fresh();
      const ids = await insertIds(store, {}, {});
      await store.recordAndClaim(claimOnly());
      const [a, b] = ids as [number, number];
      const before = await taskRows(store, ids);
      const wrong = (taskId: number): Lease => ({ taskId, token: "not-the-lease-token", workerId: "w1" });
      const answer = await store.recordAndClaim({
        completions: [{ lease: wrong(a), result: '"done"' }],
        failures: [{ lease: wrong(b), failure: { outcome: "dead_letter", error: ERROR } }],
      });
      expect([...answer.completed]).toEqual([]);
      expect(answer.ended).toEqual([null]);
      expect(answer.claimed).toEqual([]);
      expect(answer.lease).toBeUndefined();
      expect(await taskRows(store, ids)).toEqual(before);
    });

    it("a stale token (the task's earlier lease) is refused, and the current holder's lease stands", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const [id] = (await insertIds(store, {})) as [number];
      const first = await store.recordAndClaim(claimOnly());
      await failing(store, { lease: leaseOf(first, id), failure: retryNow(store) });
      const second = await other.recordAndClaim(claimOnly({ workerId: "w2" }));
      const held = await store.getTask(id);
      expect(held).toMatchObject({ status: "leased", attempts: 2, locked_by: "w2", lease_token: second.lease?.token });
      const late = await store.recordAndClaim({
        completions: [{ lease: leaseOf(first, id), result: '"late"' }],
        failures: [{ lease: leaseOf(first, id), failure: { outcome: "release", error: null } }],
      });
      expect([...late.completed]).toEqual([]);
      expect(late.ended).toEqual([null]);
      expect(await store.getTask(id)).toEqual(held);
      expect([...(await completing(other, { lease: leaseOf(second, id), result: '"second"' })).completed]).toEqual([id]);
    });

    it("completions under their leases end the tasks completed with their results, once", async () => {
      const store = await stores.fresh();
      const ids = await insertIds(store, {}, {});
      const [a, b] = ids as [number, number];
      const tick = await store.recordAndClaim(claimOnly());
      const completions = [
        { lease: leaseOf(tick, a), result: '{"ok":true,"n":[1,2]}' },
        { lease: leaseOf(tick, b), result: "null" },
      ];
      const done = await completing(store, ...completions);
      expect([...done.completed].sort((x, y) => x - y)).toEqual(ids);
      const [first, second] = await taskRows(store, ids);
      expect(first).toMatchObject({ status: "completed", attempts: 1, lease_token: null, locked_by: null, lease_until: null });
      expect(first?.finished_at).toBeGreaterThanOrEqual(tick.lease?.now as number);
      expect(taskFromRow(first as TaskRow).result).toEqual({ ok: true, n: [1, 2] });
      expect(taskFromRow(second as TaskRow).result).toBeNull();
      const again = await completing(store, ...completions);
      expect([...again.completed]).toEqual([]);
      expect(await taskRows(store, ids)).toEqual([first, second]);
    });

    it("failures end as asked, in request order: retry at its time, dead_letter, cancelled, release with the attempt given back", async () => {
      const store = await stores.fresh();
      const ids = await insertIds(store, {}, {}, {}, {});
      const [retried, dead, cancelled, released] = ids as [number, number, number, number];
      const tick = await store.recordAndClaim(claimOnly());
      const runAfter = store.clock.now() + 30_000;
      const answer = await failing(
        store,
        { lease: leaseOf(tick, retried), failure: { outcome: "retry", error: ERROR, runAfter } },
        { lease: leaseOf(tick, dead), failure: { outcome: "dead_letter", error: ERROR } },
        { lease: leaseOf(tick, cancelled), failure: { outcome: "cancelled", error: ERROR } },
        { lease: leaseOf(tick, released), failure: { outcome: "release", error: null } },
      );
      expect(answer.ended).toEqual(["queued", "dead_letter", "cancelled", "queued"]);
      const [r, d, c, l] = (await taskRows(store, ids)).map((row) => taskFromRow(row));
      const failed = { name: "Error", message: "it failed" };
      expect(r).toMatchObject({ status: "queued", attempts: 1, runAfter: new Date(runAfter), error: failed, finishedAt: null });
      expect(d).toMatchObject({ status: "dead_letter", attempts: 1, error: failed });
      expect(c).toMatchObject({ status: "cancelled", attempts: 1, error: failed });
      expect(l).toMatchObject({ status: "queued", attempts: 0, error: null, finishedAt: null });
      for (const task of [r, d, c, l]) expect(task).toMatchObject({ lockedBy: null, leaseUntil: null });
      expect(d?.finishedAt).not.toBeNull();
      expect(c?.finishedAt).not.toBeNull();
    });

    it("a cancel requested while leased turns a retry or a release into cancelled", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const ids = await insertIds(store, {}, {});
      const [a, b] = ids as [number, number];
      const tick = await store.recordAndClaim(claimOnly());
      for (const id of ids) expect(await other.cancelTask(id)).toMatchObject({ status: "leased", cancel_requested: 1 });
      const answer = await failing(
        store,
        { lease: leaseOf(tick, a), failure: retryNow(store) },
        { lease: leaseOf(tick, b), failure: { outcome: "release", error: null } },
      );
      expect(answer.ended).toEqual(["cancelled", "cancelled"]);
      for (const row of await taskRows(store, ids)) expect(row.status).toBe("cancelled");
    });
  });

  describe(`${backend.name} store: expired leases`, () => {
    it("the next claim recovers expired leases: requeued, dead-lettered with no attempt left, cancelled when a cancel waits", async () => {
      const store = await stores.fresh();
      const ids = await insertIds(store, { maxAttempts: 3 }, { maxAttempts: 1 }, { maxAttempts: 3 });
      const [requeued, exhausted, cancelled] = ids as [number, number, number];
      const tick = await store.recordAndClaim(claimOnly({ leaseMs: 30 }));
      await store.cancelTask(cancelled);
      await untilPast(store, tick.lease?.leaseUntil as number);
      const recovery = await store.recordAndClaim(claimOnly({ limit: 0 }));
      expect(recovery.claimed).toEqual([]);
      const recovered = [...recovery.recovered].sort((x, y) => x.id - y.id);
      expect(recovered.map((task) => [task.id, task.status])).toEqual([
        [requeued, "queued"],
        [exhausted, "dead_letter"],
        [cancelled, "cancelled"],
      ]);
      const [r, d, c] = await taskRows(store, ids);
      expect(r).toMatchObject({ status: "queued", attempts: 1, lease_token: null, locked_by: null, finished_at: null });
      expect(d).toMatchObject({ status: "dead_letter", lease_token: null });
      expect(c).toMatchObject({ status: "cancelled", lease_token: null });
      expect(d?.finished_at).not.toBeNull();
      expect(c?.finished_at).not.toBeNull();
      const late = await completing(store, { lease: leaseOf(tick, requeued), result: '"late"' });
      expect([...late.completed]).toEqual([]);
      expect(await store.getTask(requeued)).toEqual(r);
    });

    it("leaves a lease that has not expired, and expired ones under recover: false; a late holder is refused after a takeover", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const { expired, held, expiredLease, heldLease } = await expiredBesideHeld(store);
      const skipped = await other.recordAndClaim(claimOnly({ workerId: "w2", recover: false }));
      expect(skipped.recovered).toEqual([]);
      expect(skipped.claimed).toEqual([]);
      const taken = await other.recordAndClaim(claimOnly({ workerId: "w2" }));
      expect(taken.recovered.map((task) => task.id)).toEqual([expired]);
      expect(taken.claimed).toEqual([expect.objectContaining({ id: expired, attempts: 2, lockedBy: "w2" })]);
      expect(await store.getTask(held)).toMatchObject({ status: "leased", lease_token: heldLease.token });
      const late = await completing(store, { lease: expiredLease, result: '"late"' });
      expect([...late.completed]).toEqual([]);
      expect(await store.getTask(expired)).toMatchObject({ status: "leased", locked_by: "w2", lease_token: taken.lease?.token });
    });
  });

  describe(`${backend.name} store: renewals and the registry of workers`, () => {
    it("renewLeases extends held leases: the task outlives its first expiry", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const [id] = (await insertIds(store, {})) as [number];
      const tick = await store.recordAndClaim(claimOnly({ leaseMs: 300 }));
      const lease = leaseOf(tick, id);
      const renewal = await store.renewLeases({ workerId: "w1", leases: [lease], leaseMs: 60_000 });
      expect(renewal?.held.get(id)).toEqual({ cancelRequested: false });
      expect(renewal?.lost).toEqual([]);
      expect(renewal?.lostLeases).toEqual([]);
      expect((await store.getTask(id))?.lease_until).toBeGreaterThanOrEqual((tick.lease?.now as number) + 60_000);
      await untilPast(store, tick.lease?.leaseUntil as number);
      const later = await other.recordAndClaim(claimOnly({ workerId: "w2" }));
      expect(later.recovered).toEqual([]);
      expect(later.claimed).toEqual([]);
      expect([...(await completing(store, { lease, result: "1" })).completed]).toEqual([id]);
    });

    it("renewLeases reports a lease taken over as lost, and leaves the new holder's lease alone", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const { expired, held, expiredLease, heldLease } = await expiredBesideHeld(store);
      const takeover = await other.recordAndClaim(claimOnly({ workerId: "w2" }));
      expect(claimedIds(takeover)).toEqual([expired]);
      const renewal = await store.renewLeases({ workerId: "w1", leases: [expiredLease, heldLease], leaseMs: 60_000 });
      expect(renewal?.lost).toEqual([expired]);
      expect(renewal?.lostLeases).toEqual([expiredLease]);
      expect([...(renewal?.held.keys() ?? [])]).toEqual([held]);
      expect(await store.getTask(expired)).toMatchObject({
        locked_by: "w2",
        lease_token: takeover.lease?.token,
        lease_until: takeover.lease?.leaseUntil,
      });
    });

    it("renewLeases tells a stale lease of a task from its current one, both the same worker's", async () => {
      const store = await stores.fresh();
      const [id] = (await insertIds(store, {})) as [number];
      const first = await store.recordAndClaim(claimOnly({ leaseMs: 30 }));
      await untilPast(store, first.lease?.leaseUntil as number);
      const second = await store.recordAndClaim(claimOnly());
      expect(claimedIds(second)).toEqual([id]);
      const renewal = await store.renewLeases({ workerId: "w1", leases: [leaseOf(first, id), leaseOf(second, id)], leaseMs: 60_000 });
      expect(renewal?.held.get(id)).toEqual({ cancelRequested: false });
      expect(renewal?.lost).toEqual([id]);
      expect(renewal?.lostLeases).toEqual([leaseOf(first, id)]);
    });

    it("renewLeases tells the holder that a cancel waits, and keeps the task leased", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const [cancelled, running] = (await insertIds(store, {}, {})) as [number, number];
      const tick = await store.recordAndClaim(claimOnly());
      await other.cancelTask(cancelled);
      const renewal = await store.renewLeases({
        workerId: "w1",
        leases: [leaseOf(tick, cancelled), leaseOf(tick, running)],
        leaseMs: 60_000,
      });
      expect(renewal?.held.get(cancelled)).toEqual({ cancelRequested: true });
      expect(renewal?.held.get(running)).toEqual({ cancelRequested: false });
      expect(renewal?.lost).toEqual([]);
      expect(await store.getTask(cancelled)).toMatchObject({ status: "leased", cancel_requested: 1 });
    });

    it("a registered worker shows in every store's metrics, its heartbeat moves with renewals, and deregistering removes it", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const workers = async () => (await other.readMetrics({ since: 0, latencySample: 1 })).workers;
      await store.registerWorker({ id: "w-reg", host: "host-a", pid: 4242, capabilities: ["gpu", "ssd"] });
      const [registered] = await workers();
      expect(registered).toMatchObject({ id: "w-reg", host: "host-a", pid: 4242 });
      expect(JSON.parse(registered?.capabilities as string)).toEqual(["gpu", "ssd"]);
      await untilPast(store, registered?.heartbeat_at as number);
      await store.renewLeases({ workerId: "w-reg", leases: [], leaseMs: 60_000 });
      const [renewed] = await workers();
      expect(renewed?.heartbeat_at).toBeGreaterThan(registered?.heartbeat_at as number);
      expect(renewed?.started_at).toBe(registered?.started_at);
      await store.deregisterWorker("w-reg");
      expect(await workers()).toEqual([]);
    });
  });

  describe(`${backend.name} store: progress and log lines of a leased task`, () => {
    it("setTaskProgress and appendLeasedTaskLog write while the lease is held, seen by a peer", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const [id] = (await insertIds(store, {})) as [number];
      const lease = leaseOf(await store.recordAndClaim(claimOnly()), id);
      expect(await store.setTaskProgress(lease, 0.25)).toBe(true);
      expect(await store.appendLeasedTaskLog(lease, "info", "step one", '{"n":1}')).toBe(true);
      expect(await store.appendLeasedTaskLog(lease, "warn", "step two", null)).toBe(true);
      expect((await other.getTask(id))?.progress).toBe(0.25);
      expect((await other.taskLogs(id)).map((line) => [line.level, line.message, line.details])).toEqual([
        ["info", "step one", '{"n":1}'],
        ["warn", "step two", null],
      ]);
    });

    it("they return false and write nothing once the lease is lost: task requeued, then taken over", async () => {
      const store = await stores.fresh();
      const other = await stores.peer(store);
      const [id] = (await insertIds(store, {})) as [number];
      const lease = leaseOf(await store.recordAndClaim(claimOnly()), id);
      await failing(store, { lease, failure: retryNow(store) });
      const writesRefused = async () => {
        const before = await store.getTask(id);
        expect(await store.setTaskProgress(lease, 0.9)).toBe(false);
        expect(await store.appendLeasedTaskLog(lease, "error", "late", null)).toBe(false);
        expect(await store.setTaskProgress({ ...lease, token: "not-the-lease-token" }, 0.9)).toBe(false);
        expect(await store.getTask(id)).toEqual(before);
        expect(await store.taskLogs(id)).toEqual([]);
      };
      await writesRefused();
      expect(claimedIds(await other.recordAndClaim(claimOnly({ workerId: "w2" })))).toEqual([id]);
      await writesRefused();
    });
  });
}
