import { BackgroundTaskManager, QueuedTaskManager, RunRegistry, type TaskManager, TaskOrchestrator } from "@queue/integration";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

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
