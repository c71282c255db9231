import { BackgroundTaskManager, QueuedTaskManager, RunRegistry, type TaskManager, TaskOrchestrator } from "@queue/integration";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "./contract.js";

afterEach(removeTempDirs);

const managers: [string, () => TaskManager][] = [
  ["in memory", () => new BackgroundTaskManager(new RunRegistry())],
  [
    "on the queue",
    () => new QueuedTaskManager({ path: tempDbPath(), embeddedWorker: { concurrency: 4, pollIntervalMs: 5 }, syncIntervalMs: 10 }),
  ],
];

describe.each(managers)("TaskOrchestrator %s", (_label, create) => {
  it("infers the pattern from the request", () => {
    const orchestrator = new TaskOrchestrator(new BackgroundTaskManager());
    expect(orchestrator.choosePattern({ moduleId: "m" })).toBe("simple");
    expect(orchestrator.choosePattern({ moduleId: "m", items: [{}] })).toBe("concurrent");
    expect(orchestrator.choosePattern({ moduleId: "m", items: [{}], poolSize: 2 })).toBe("pooled");
    expect(orchestrator.choosePattern({ moduleId: "m", intervalMs: 10 })).toBe("periodic");
    expect(orchestrator.choosePattern({ moduleId: "m", expectedDurationMs: 3_600_000 })).toBe("long-running");
    expect(orchestrator.choosePattern({ moduleId: "m", fireAndForget: true })).toBe("fire-and-forget");
    expect(orchestrator.choosePattern({ moduleId: "m", pattern: "pooled" })).toBe("pooled");
  });

  it("runs simple, concurrent, pooled and periodic work to completion through the manager", async () => {
    const manager = create();
    let running = 0;
    let peak = 0;
    const seen: unknown[] = [];
    manager.registerModule("job", async (parameters) => {
      running += 1;
      peak = Math.max(peak, running);
      seen.push(parameters.item ?? parameters.occurrence ?? "simple");
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
    });
    const orchestrator = new TaskOrchestrator(manager);
    expect((await orchestrator.run({ moduleId: "job" })).runs.map((run) => run.status)).toEqual(["completed"]);
    const concurrent = await orchestrator.run({ moduleId: "job", items: [1, 2, 3].map((item) => ({ item })) });
    expect(concurrent.runs.every((run) => run.status === "completed")).toBe(true);
    peak = 0;
    const pooled = await orchestrator.run({ moduleId: "job", items: [4, 5, 6, 7, 8].map((item) => ({ item })), poolSize: 2 });
    expect(pooled).toMatchObject({ pattern: "pooled" });
    expect(pooled.runs).toHaveLength(5);
    expect(peak).toBeLessThanOrEqual(2);
    const periodic = await orchestrator.run({ moduleId: "job", intervalMs: 5, times: 3 });
    expect(periodic.runs.map((run) => run.parameters.occurrence)).toEqual([1, 2, 3]);
    const started = await orchestrator.run({ moduleId: "job", fireAndForget: true });
    expect(started.runs).toHaveLength(1);
    await manager.waitAll();
    expect(seen.filter((value) => typeof value === "number" && value >= 1 && value <= 8)).toHaveLength(11);
    await manager.close();
  });
});

describe("TaskOrchestrator periodic runs on the queue", () => {
  it("schedules every occurrence in the file, so the schedule survives the process that made it", async () => {
    const path = tempDbPath();
    const first = new QueuedTaskManager({ path, embeddedWorker: { pollIntervalMs: 5 }, syncIntervalMs: 10 });
    first.registerModule("tick", async () => undefined);
    const began = Date.now();
    const pending = new TaskOrchestrator(first).run({ moduleId: "tick", intervalMs: 400, times: 3, runIdPrefix: "tick" });
    await until(() => first.registry.all().length === 3);
    // The first process goes away before the later occurrences are due.
    await first.close();
    void pending.catch(() => undefined);

    const second = new QueuedTaskManager({ path, embeddedWorker: { pollIntervalMs: 5 }, syncIntervalMs: 10 });
    second.registerModule("tick", async () => undefined);
    const db = new Database(path, { readonly: true });
    const rows = () =>
      db.prepare("SELECT status, run_after, started_at FROM tasks ORDER BY run_after").all() as {
        status: string;
        run_after: number;
        started_at: number | null;
      }[];
    await until(() => rows().every((row) => row.status === "completed"), 10_000);
    const done = rows();
    expect(done).toHaveLength(3);
    expect(done[1]?.run_after).toBe((done[0]?.run_after ?? 0) + 400);
    expect(done[2]?.run_after).toBe((done[0]?.run_after ?? 0) + 800);
    expect(done[0]?.run_after).toBeGreaterThanOrEqual(began);
    for (const row of done) expect(row.started_at).toBeGreaterThanOrEqual(row.run_after);
    db.close();
    await second.close();
  });
});

describe("TaskOrchestrator when the manager closes", () => {
  it("on the queue, a run still queued when the manager closes rejects with CLOSED and stays queued", async () => {
    const path = tempDbPath();
    const manager = new QueuedTaskManager({ path, embeddedWorker: false });
    const waiting = new TaskOrchestrator(manager).run({ moduleId: "later" });
    await until(() => manager.registry.all().length === 1);
    await manager.close();
    await expect(waiting).rejects.toMatchObject({ code: "CLOSED" });
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT status FROM tasks").all()).toEqual([{ status: "queued" }]);
    db.close();
  });

  it("in memory, a run aborted by close settles with its final state", async () => {
    const manager = new BackgroundTaskManager(new RunRegistry());
    manager.registerModule(
      "forever",
      (_parameters, { signal }) => new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason))),
    );
    const waiting = new TaskOrchestrator(manager).run({ moduleId: "forever" });
    await until(() => manager.getActiveTaskCount() === 1);
    await manager.close();
    const { runs } = await waiting;
    expect(runs[0]?.status).toMatch(/cancelled|failed/);
  });
});
