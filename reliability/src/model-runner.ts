// Runs a sequence of model commands against the real engine (a real SQLite file, or a schema of a
// real PostgreSQL database; the exported client, the lease API or the storage port, an injected
// clock) and against QueueModel, and checks after every step that both agree and that the
// invariants of ARCHITECTURE.md hold. Throws on the first mismatch, with the step and the command
// in the message.
import type { EnqueueOptions, QueueClient } from "@queue/client";
import { isQueueError, type TestClock } from "@queue/core";
import { getStrategy } from "@queue/scheduling";
import { type ModelEngine, postgresModelEngine, sqliteModelEngine } from "./model-engine.js";
import {
  type Command,
  clearLease,
  type EnqueueSpec,
  MODEL_LEASE_MS,
  MODEL_TYPES,
  type ModelLease,
  type ModelStatus,
  type ModelTask,
  QueueModel,
} from "./model-queue.js";

export class ModelMismatch extends Error {
  override readonly name = "ModelMismatch";
}

function expectEqual(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new ModelMismatch(`${what}: engine ${a}, model ${e}`);
}

function expectTrue(condition: boolean, what: string): void {
  if (!condition) throw new ModelMismatch(what);
}

/** Runs `operation`, which must fail with a QueueError of `code` (and change nothing). */
async function expectQueueError(operation: () => unknown, code: string, what: string): Promise<void> {
  try {
    await operation();
  } catch (error) {
    if (isQueueError(error) && error.code === code) return;
    throw new ModelMismatch(`${what}: expected a QueueError ${code}, got ${String(error)}`);
  }
  throw new ModelMismatch(`${what}: expected a QueueError ${code}, but it succeeded`);
}

function enqueueOptions(spec: EnqueueSpec): EnqueueOptions {
  return {
    priority: spec.priority,
    delayMs: spec.delayMs,
    maxAttempts: spec.maxAttempts,
    ...(spec.key === null ? {} : { idempotencyKey: spec.key }),
  };
}

export interface ModelRunReport {
  readonly steps: number;
  readonly claimed: number;
  readonly finalCounts: Record<ModelStatus, number>;
}

export interface ModelRunOptions {
  /**
   * What a worker does with its own stale lease of a task it claims again (its lease expired and
   * its next claim recovered and re-leased the task). "drop" (default) is what the Worker class
   * does: it tracks running tasks by id, so the new claim replaces the stale entry. "keep" holds
   * both leases, as a caller of the low-level lease API may, and heartbeats them together.
   */
  readonly staleLeases?: "drop" | "keep";
  /** The backend: a fresh SQLite file (default), or a fresh schema on the PostgreSQL server at this URL. */
  readonly postgres?: string;
}

/** Runs `commands` on a fresh database file (or schema); resolves with a small report, or throws ModelMismatch. */
export async function runModel(commands: readonly Command[], options: ModelRunOptions = {}): Promise<ModelRunReport> {
  const engine = options.postgres === undefined ? sqliteModelEngine() : await postgresModelEngine(options.postgres);
  const { client, clock } = engine;
  const model = new QueueModel();
  const finalSeen = new Map<number, string>();
  let claimed = 0;
  try {
    for (const [step, command] of commands.entries()) {
      try {
        claimed += await apply(command, { engine, client, clock, model, staleLeases: options.staleLeases ?? "drop" });
        await check(engine, client, model, finalSeen);
      } catch (error) {
        if (error instanceof ModelMismatch) {
          error.message = `step ${step} ${JSON.stringify(command)}: ${error.message}`;
        }
        throw error;
      }
    }
    expectEqual(await engine.integrity(), "ok", "integrity_check");
    return { steps: commands.length, claimed, finalCounts: await client.counts() };
  } finally {
    await engine.close();
  }
}

interface Engine {
  readonly engine: ModelEngine;
  readonly client: QueueClient;
  readonly clock: TestClock;
  readonly model: QueueModel;
  readonly staleLeases: "drop" | "keep";
}

/** Applies one command to engine and model; returns how many tasks it claimed. */
async function apply(command: Command, engine: Engine): Promise<number> {
  const { client, clock, model } = engine;
  switch (command.kind) {
    case "enqueue": {
      const payload = model.nextPayload();
      const result = await client.enqueue(command.type, payload, enqueueOptions(command));
      const expected = model.enqueue(command, clock.now(), payload, engine.engine.idsMayGap ? result.task.id : undefined);
      expectEqual([result.task.id, result.created], [expected.task.id, expected.created], "enqueue id/created");
      return 0;
    }
    case "enqueueMany": {
      const items = command.items.map((spec) => ({
        type: spec.type,
        payload: model.nextPayload(),
        options: enqueueOptions(spec),
      }));
      if (command.poisonAt !== null) {
        const at = Math.min(command.poisonAt, items.length);
        const poisoned = [...items.slice(0, at), { type: "alpha", payload: null, options: { maxAttempts: 0 } }, ...items.slice(at)];
        await expectQueueError(() => client.enqueueMany(poisoned), "INVALID_ARGUMENT", "a batch with an invalid item");
        return 0;
      }
      const results = await client.enqueueMany(items);
      const now = clock.now();
      const expected = command.items.map((spec, index) =>
        model.enqueue(spec, now, items[index]?.payload as { seq: number }, engine.engine.idsMayGap ? results[index]?.task.id : undefined),
      );
      expectEqual(
        results.map((result) => [result.task.id, result.created]),
        expected.map((result) => [result.task.id, result.created]),
        "enqueueMany ids/created",
      );
      return 0;
    }
    case "claim": {
      const workerId = model.workerId(command.worker);
      const outcome = await engine.engine.claim({
        workerId,
        strategy: getStrategy(command.strategy),
        leaseMs: MODEL_LEASE_MS,
        limit: command.limit,
      });
      const now = clock.now();
      const recovered = model.recoverExpired(now);
      expectEqual(outcome.recovered.map((task) => task.id).sort(byNumber), recovered.sort(byNumber), "tasks recovered by a claim");
      const token = outcome.claimed[0]?.lease.token ?? "(none)";
      const expected = model.claim(command.worker, command.limit, command.strategy, now, token);
      expectEqual(
        outcome.claimed.map(({ task }) => task.id),
        expected,
        "tasks claimed, in strategy order",
      );
      if (engine.staleLeases === "drop") {
        const taken = new Set(expected);
        model.held[command.worker] = (model.held[command.worker] ?? []).filter((lease) => !taken.has(lease.taskId));
      }
      for (const { task, lease } of outcome.claimed) {
        expectTrue(lease.token === token && lease.workerId === workerId, "one claim hands out one token to one worker");
        expectEqual([task.status, task.attempts, task.lockedBy], ["leased", model.tasks.get(task.id)?.attempts, workerId], "claimed task");
        model.held[command.worker]?.push({ taskId: lease.taskId, token: lease.token, workerId: lease.workerId });
      }
      expectEqual(outcome.discarded, 0, "claimed rows that could not be decoded");
      return outcome.claimed.length;
    }
    case "complete":
    case "fail":
    case "release": {
      const held = model.held[command.worker] ?? [];
      if (held.length === 0) return 0;
      const [lease] = held.splice(command.pick % held.length, 1) as [ModelLease];
      await finish(command.kind === "complete" ? { kind: "complete" } : command, lease, engine);
      return 0;
    }
    case "heartbeat": {
      const held = model.held[command.worker] ?? [];
      if (held.length === 0) return 0;
      await heartbeat(held, engine);
      model.held[command.worker] = held.filter((lease) => model.isCurrent(lease));
      return 0;
    }
    case "late": {
      if (model.zombies.length === 0) return 0;
      const [lease] = model.zombies.splice(command.pick % model.zombies.length, 1) as [ModelLease];
      if (command.action === "heartbeat") await heartbeat([lease], engine);
      else
        await finish(
          command.action === "complete" ? { kind: "complete" } : { kind: "fail", permanent: false, backoffMs: 0 },
          lease,
          engine,
        );
      return 0;
    }
    case "cancel": {
      const id = pickId(model, command.pick);
      const task = model.tasks.get(id);
      if (task === undefined) return expectQueueError(() => client.cancel(id), "NOT_FOUND", "cancel of a missing task").then(() => 0);
      if (task.status === "completed" || task.status === "dead_letter")
        return expectQueueError(() => client.cancel(id), "INVALID_STATE", `cancel of a ${task.status} task`).then(() => 0);
      const returned = await client.cancel(id);
      if (task.status === "queued") task.status = "cancelled";
      else if (task.status === "leased") task.cancelRequested = true;
      expectEqual([returned.status, returned.cancelRequested], [task.status, task.cancelRequested], "task returned by cancel");
      return 0;
    }
    case "retry": {
      const id = pickId(model, command.pick);
      const task = model.tasks.get(id);
      if (task === undefined) return expectQueueError(() => client.retry(id), "NOT_FOUND", "retry of a missing task").then(() => 0);
      if (task.status !== "dead_letter")
        return expectQueueError(() => client.retry(id), "INVALID_STATE", `retry of a ${task.status} task`).then(() => 0);
      const returned = await client.retry(id);
      task.status = "queued";
      task.attempts = 0;
      task.runAfter = clock.now();
      task.cancelRequested = false;
      task.permanentFailure = false;
      expectEqual([returned.status, returned.attempts], ["queued", 0], "task returned by retry");
      return 0;
    }
    case "advance":
      clock.advance(command.ms);
      return 0;
    case "crash": {
      model.zombies.push(...(model.held[command.worker] ?? []));
      model.held[command.worker] = [];
      model.generation[command.worker] = (model.generation[command.worker] ?? 0) + 1;
      return 0;
    }
    case "recover": {
      const ids = (await engine.engine.recover()).sort(byNumber);
      const recovered = model.recoverExpired(clock.now());
      expectEqual(ids, recovered.sort(byNumber), "tasks recovered by maintenance");
      return 0;
    }
    case "pause":
      await client.pause(command.type ?? undefined);
      model.paused.add(command.type ?? "*");
      return 0;
    case "resume":
      await client.resume(command.type ?? undefined);
      model.paused.delete(command.type ?? "*");
      return 0;
  }
}

function byNumber(a: number, b: number): number {
  return a - b;
}

/** One of the n task ids (1..n where ids are dense), or one above them all, for a task that does not exist. */
function pickId(model: QueueModel, pick: number): number {
  const ids = [...model.tasks.keys()].sort(byNumber);
  const index = pick % (ids.length + 1);
  return ids[index] ?? (ids.at(-1) ?? 0) + 1;
}

type Finish = { kind: "complete" } | { kind: "fail"; permanent: boolean; backoffMs: number } | { kind: "release" };

/** Completes, fails or releases through `lease`: recorded only if it is the task's current lease. */
async function finish(how: Finish, lease: ModelLease, { engine, clock, model }: Engine): Promise<void> {
  const task = model.tasks.get(lease.taskId) as ModelTask;
  const current = model.isCurrent(lease);
  const result = JSON.stringify({ by: lease.workerId, token: lease.token });
  const outcome =
    how.kind === "release"
      ? ("release" as const)
      : how.kind === "fail" && (how.permanent || task.attempts >= task.maxAttempts)
        ? ("dead_letter" as const)
        : ("retry" as const);
  const run = () => {
    if (how.kind === "complete") return engine.complete(lease, result);
    return engine.fail(lease, {
      outcome,
      error: outcome === "release" ? null : JSON.stringify({ name: "Error", message: "failed on purpose" }),
      ...(outcome === "retry" && how.kind === "fail" ? { runAfter: clock.now() + how.backoffMs } : {}),
    });
  };
  if (!current) {
    await expectQueueError(run, "LEASE_LOST", `${how.kind} with a lease that is no longer current`);
    return;
  }
  const ended = await run();
  const now = clock.now();
  if (how.kind === "complete") {
    task.status = "completed";
    task.result = result;
  } else {
    const queued = outcome === "retry" || outcome === "release";
    task.status = queued ? (task.cancelRequested ? "cancelled" : "queued") : "dead_letter";
    task.runAfter = outcome === "retry" && how.kind === "fail" ? now + how.backoffMs : now;
    if (outcome === "release") task.attempts -= 1;
    task.permanentFailure = how.kind === "fail" && how.permanent;
    expectEqual(ended, task.status, "status returned by fail()");
  }
  task.cancelRequested = false;
  clearLease(task);
}

/**
 * Extends `leases` in one call. A claim hands one token to its whole batch and renewal is by
 * (worker, token), so renewing one lease of a batch renews every task of that batch the worker
 * still holds; the answer reports only the leases asked about: held (current) or lost.
 */
async function heartbeat(leases: readonly ModelLease[], { engine, clock, model }: Engine): Promise<void> {
  const result = await engine.extend(leases, MODEL_LEASE_MS);
  const now = clock.now();
  const renewedTokens = new Set(leases.map((lease) => `${lease.workerId} ${lease.token}`));
  for (const task of model.tasks.values()) {
    if (task.status === "leased" && renewedTokens.has(`${task.lockedBy} ${task.token}`)) {
      task.leaseUntil = Math.max(task.leaseUntil ?? 0, now + MODEL_LEASE_MS);
    }
  }
  const held: [number, boolean][] = [];
  const lost: number[] = [];
  for (const lease of leases) {
    const task = model.tasks.get(lease.taskId) as ModelTask;
    if (model.isCurrent(lease) && task.lockedBy === lease.workerId) held.push([task.id, task.cancelRequested]);
    else lost.push(task.id);
  }
  expectEqual(
    [...result.held].map(([id, state]) => [id, state.cancelRequested]).sort((a, b) => Number(a[0]) - Number(b[0])),
    held.sort((a, b) => a[0] - b[0]),
    "leases renewed (with pending cancels)",
  );
  expectEqual([...result.lost].sort(byNumber), lost.sort(byNumber), "leases reported lost");
}

/** The engine's whole state against the model's, then the invariants that hold whatever the model says. */
async function check(engine: ModelEngine, client: QueueClient, model: QueueModel, finalSeen: Map<number, string>): Promise<void> {
  const rows = await engine.rows();
  expectEqual(rows.length, model.tasks.size, "number of tasks (nothing lost, nothing invented)");
  for (const row of rows) {
    const task = model.tasks.get(row.id);
    if (task === undefined) throw new ModelMismatch(`task ${row.id} exists in the file but not in the model`);
    expectEqual(
      {
        type: row.type,
        priority: row.priority,
        payload: JSON.parse(row.payload),
        status: row.status,
        attempts: row.attempts,
        maxAttempts: row.max_attempts,
        runAfter: row.run_after,
        leaseUntil: row.lease_until,
        token: row.lease_token,
        lockedBy: row.locked_by,
        key: row.idempotency_key,
        cancelRequested: row.cancel_requested === 1,
      },
      {
        type: task.type,
        priority: task.priority,
        payload: task.payload,
        status: task.status,
        attempts: task.attempts,
        maxAttempts: task.maxAttempts,
        runAfter: task.runAfter,
        leaseUntil: task.leaseUntil,
        token: task.token,
        lockedBy: task.lockedBy,
        key: task.key,
        cancelRequested: task.cancelRequested,
      },
      `task ${row.id}`,
    );
    if (row.status === "completed") expectEqual(row.result, task.result, `result of completed task ${row.id}`);

    // Invariants stated without the model, so a wrong model cannot hide a broken engine.
    expectTrue(
      row.attempts >= 0 && row.attempts <= row.max_attempts,
      `task ${row.id}: attempts ${row.attempts} outside 0..${row.max_attempts}`,
    );
    const leased = row.status === "leased";
    expectTrue(
      leased === (row.lease_token !== null) && leased === (row.locked_by !== null) && leased === (row.lease_until !== null),
      `task ${row.id}: a lease (token, holder, expiry) exists exactly while leased, got ${JSON.stringify(row)}`,
    );
    const final = row.status === "completed" || row.status === "dead_letter" || row.status === "cancelled";
    expectTrue(final === (row.finished_at !== null), `task ${row.id}: finished_at is set exactly in a final status`);
    if (row.status === "dead_letter") {
      expectTrue(
        row.attempts >= row.max_attempts || task.permanentFailure,
        `task ${row.id} is dead-lettered after ${row.attempts} of ${row.max_attempts} attempts without a permanent failure`,
      );
    }
    const before = finalSeen.get(row.id);
    if (before !== undefined) expectEqual(row.status, before, `task ${row.id} left the final status ${before}`);
    if (row.status === "completed" || row.status === "cancelled") finalSeen.set(row.id, row.status);
    // At most one lease in the whole system (live workers and crashed ones) is the current one.
    if (leased) {
      const holders = [...model.held.flat(), ...model.zombies].filter(
        (lease) => lease.taskId === row.id && lease.token === row.lease_token,
      );
      expectTrue(holders.length <= 1, `task ${row.id}: ${holders.length} workers hold its current lease`);
    }
  }
  const counts: Record<string, number> = { queued: 0, leased: 0, completed: 0, dead_letter: 0, cancelled: 0 };
  for (const task of model.tasks.values()) counts[task.status] = (counts[task.status] ?? 0) + 1;
  expectEqual(await client.counts(), counts, "counts by status");
}

export { MODEL_TYPES };
