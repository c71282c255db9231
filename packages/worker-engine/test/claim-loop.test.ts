import {
  type ExtendResult,
  openQueueDatabase,
  type QueueDatabase,
  SqliteStore,
  type Task,
  type TickRequest,
  type TickResult,
} from "@queue/core";
import { afterEach, describe, expect, it } from "vitest";
import { ClaimLoop } from "../src/claim-loop.js";
import { Completer } from "../src/completer.js";
import { Executor } from "../src/executor.js";
import type { TaskHandler } from "../src/handlers.js";
import { resolveWorkerOptions } from "../src/options.js";
import { Prefetch } from "../src/prefetch.js";
import { emptyStats, type Report } from "../src/report.js";
import { Wake } from "../src/wake.js";
import { WorkWatch } from "../src/work-watch.js";
import { eventually } from "./helpers.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** What a tick answers: `claimed` taken, the queue otherwise empty. */
function answer(claimed: Task[] = [], completed: readonly number[] = []): TickResult {
  const lease = { token: "token", workerId: "w", leaseUntil: 0, now: 0 };
  return { now: 0, completed: new Set(completed), ended: [], discarded: 0, recovered: [], claimed, lease, nextDue: null, writeMark: 1 };
}

/** A store whose ticks are answered by `tick` (and recorded in `requests`); renewals and write marks change nothing. */
class ScriptedStore extends SqliteStore {
  readonly requests: TickRequest[] = [];
  readonly #tick: (request: TickRequest) => Promise<TickResult>;

  constructor(db: QueueDatabase, tick: (request: TickRequest) => Promise<TickResult>) {
    super(db);
    this.#tick = tick;
  }

  override recordAndClaim(request: TickRequest): Promise<TickResult> {
    this.requests.push(request);
    return this.#tick(request);
  }

  override async renewLeases(): Promise<ExtendResult | undefined> {
    return undefined;
  }

  override async writeMark(): Promise<number> {
    return 1;
  }
}

/** Ticks whose first fails (the database was busy too long) and the rest find nothing; `count` says how many ran. */
function failingOnce() {
  const ticks = { count: 0 };
  const tick = async () => {
    ticks.count += 1;
    if (ticks.count === 1) throw new Error("database is locked");
    return answer();
  };
  return { ticks, tick };
}

function claimedTask(id: number): Task {
  return { id, type: "t", payload: null, attempts: 1, maxAttempts: 3, timeoutMs: null, traceParent: null } as unknown as Task;
}

/** A claim loop over ticks answered by `tick`, with the requests it sent and the errors it reported. */
function loopOver(tick: (request: TickRequest) => Promise<TickResult>, handlers: Record<string, TaskHandler> = {}, pollIntervalMs = 50) {
  const db = openQueueDatabase({ path: ":memory:" });
  const options = resolveWorkerOptions({ db, handlers, concurrency: 1, prefetch: 0, pollIntervalMs, workerId: "w" });
  const store = new ScriptedStore(db, tick);
  const requests = store.requests;
  const errors: unknown[] = [];
  const report: Report = {
    stats: emptyStats(),
    emit: (event, ...args) => {
      if (event === "error") errors.push(args[0]);
    },
    listenerCount: () => 0,
  };
  const wake = new Wake();
  const watch = new WorkWatch(store, options, wake);
  const completer = new Completer(report, watch);
  const executor = new Executor({ store, workerId: "w", options, handlers, report, completer, wake });
  const prefetch = new Prefetch(options, executor, completer);
  const loop = new ClaimLoop({ workerId: "w", options, store, report, wake, watch, completer, executor, prefetch });
  cleanups.push(
    () => loop.stop(),
    () => db.close(),
  );
  return { loop, requests, errors, stats: report.stats };
}

describe("the claim loop's modes", () => {
  it("starts, claims, polls once a claim finds nothing, and drains then stops when told", async () => {
    const { loop, requests } = loopOver(async () => answer());
    expect(loop.mode).toBe("starting");
    loop.start();
    await eventually(() => loop.mode === "polling");
    expect(requests[0]?.claim?.limit).toBe(1);
    await loop.stop();
    expect(loop.mode).toBe("draining");
    loop.finish();
    expect(loop.mode).toBe("stopped");
  });

  it("backs off after a failed tick, reporting the error, and claims again only after the delay", async () => {
    const { ticks, tick } = failingOnce();
    // The first delay is pollIntervalMs: long enough to see the loop in it.
    const { loop, errors } = loopOver(tick, {}, 60_000);
    loop.start();
    await eventually(() => loop.mode === "backing-off");
    expect(errors).toEqual([new Error("database is locked")]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(loop.mode).toBe("backing-off");
    expect(ticks.count).toBe(1);
    await loop.stop();
    expect(loop.mode).toBe("draining");
    expect(ticks.count).toBe(1);
  });

  it("claims again once the delay after a failed tick has passed", async () => {
    const { ticks, tick } = failingOnce();
    const { loop, errors } = loopOver(tick);
    loop.start();
    await eventually(() => loop.mode === "polling");
    expect(errors).toHaveLength(1);
    expect(ticks.count).toBe(2);
  });

  it("waits while every slot is busy, and records the outcome once the handler returns", async () => {
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let claims = 0;
    const { loop, requests, stats } = loopOver(
      async (request) => {
        const limit = request.claim?.limit ?? 0;
        claims += limit > 0 ? 1 : 0;
        return answer(
          limit > 0 && claims === 1 ? [claimedTask(1)] : [],
          request.completions.map(({ lease }) => lease.taskId),
        );
      },
      { t: () => finished },
    );
    loop.start();
    await eventually(() => loop.mode === "waiting");
    expect(stats.claimed).toBe(1);
    finish();
    await eventually(() => stats.completed === 1 && loop.mode === "polling");
    expect(requests.flatMap((request) => request.completions.map(({ lease }) => lease.taskId))).toEqual([1]);
  });

  it("drains instead of polling under runUntilEmpty once a claim finds nothing and nothing is left", async () => {
    const { loop } = loopOver(async () => answer());
    let drained = false;
    loop.drainWhenEmpty(() => {
      drained = true;
    });
    loop.start();
    await eventually(() => drained);
    expect(loop.mode).toBe("draining");
  });
});
