import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openQueueDatabase, SqliteStore } from "@queue/core";
import {
  exportQueueState,
  migrateInflightRuns,
  QueuedTaskManager,
  RunRegistry,
  resolveTaskExecutionConfig,
  rollbackToInMemory,
  validateMigration,
} from "@queue/integration";
import { makeTempDir, removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(removeTempDirs);

describe("rollback and roll-forward", () => {
  it("rolls back to in-memory (flag flipped, config kept, queued work back in the registry) and forward again with nothing lost", async () => {
    const directory = makeTempDir();
    const configFile = join(directory, "app.yaml");
    writeFileSync(configFile, "task_execution:\n  backend: queue\n  fallback_enabled: true\n");
    const db = openQueueDatabase({ path: tempDbPath() });
    const registry = new RunRegistry({ file: join(directory, "runs.json") });
    const at = new Date(Date.UTC(2030, 0, 1)).toISOString();
    for (const id of ["r1", "r2", "r3"]) registry.add({ id, moduleId: "job", parameters: { id }, status: "queued", createdAt: at });
    expect((await migrateInflightRuns({ from: registry, db })).migrated).toEqual(["r1", "r2", "r3"]);

    const report = await rollbackToInMemory({ db, registry, configFile });
    expect(report.needsRerun).toEqual(["r1", "r2", "r3"]);
    expect(report.stillRunning).toEqual([]);
    expect(readFileSync(report.configBackup as string, "utf8")).toContain("backend: queue");
    expect(resolveTaskExecutionConfig({ configFile, env: {} }).backend).toBe("in-memory");
    expect(db.statement("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 0 });
    expect(new RunRegistry({ file: join(directory, "runs.json") }).active().map((run) => run.id)).toEqual(["r1", "r2", "r3"]);

    // Roll forward again: the same runs go back into the queue and all of them run.
    expect((await migrateInflightRuns({ from: registry, db })).migrated).toEqual(["r1", "r2", "r3"]);
    const ran: string[] = [];
    const manager = new QueuedTaskManager({ db, registry: new RunRegistry(), embeddedWorker: { pollIntervalMs: 5 } });
    manager.registerModule("job", async (parameters) => void ran.push(parameters.id as string));
    await manager.startTask({ id: "after", moduleId: "job", parameters: { id: "after" } });
    const deadline = Date.now() + 10_000;
    while (ran.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await validateMigration(db)).status).not.toBe("fail");
    await manager.close();
    expect(ran.sort()).toEqual(["after", "r1", "r2", "r3"]);
    db.close();
  });

  it("rolls back through a store: a failed registry write takes nothing out, then queued runs move and a leased one stays", async () => {
    const directory = makeTempDir();
    const store = SqliteStore.open({ path: tempDbPath() });
    const registry = new RunRegistry({ file: join(directory, "runs.json") });
    const at = new Date(Date.UTC(2030, 0, 1)).toISOString();
    for (const id of ["r1", "r2", "r3"]) registry.add({ id, moduleId: "job", parameters: { id }, status: "queued", createdAt: at });
    expect((await migrateInflightRuns({ from: registry, store })).migrated).toEqual(["r1", "r2", "r3"]);
    // A worker claimed r2's task meanwhile.
    const claimed = (await exportQueueState(store)).find((record) => record.runId === "r2")?.taskId;
    store.db
      .statement("UPDATE tasks SET status = 'leased', lease_token = 't', locked_by = 'w', lease_until = 9e15 WHERE id = ?")
      .run(claimed);
    for (const id of ["r1", "r2", "r3"]) registry.update(id, { status: "running" });

    const save = vi.spyOn(registry, "save").mockImplementationOnce(() => {
      throw new Error("no space left on device");
    });
    await expect(rollbackToInMemory({ store, registry })).rejects.toThrow("no space left on device");
    expect((await exportQueueState(store)).map((record) => [record.runId, record.status])).toEqual([
      ["r1", "queued"],
      ["r2", "running"],
      ["r3", "queued"],
    ]);
    expect(registry.active().map((run) => [run.id, run.status])).toEqual([
      ["r1", "running"],
      ["r2", "running"],
      ["r3", "running"],
    ]);
    save.mockRestore();

    const report = await rollbackToInMemory({ store, registry });
    expect(report).toEqual({ needsRerun: ["r1", "r3"], stillRunning: ["r2"] });
    expect((await exportQueueState(store)).map((record) => record.runId)).toEqual(["r2"]);
    expect(new RunRegistry({ file: join(directory, "runs.json") }).active().map((run) => [run.id, run.status])).toEqual([
      ["r1", "queued"],
      ["r2", "running"],
      ["r3", "queued"],
    ]);
    const validation = await validateMigration(store, { liveWorkerMs: 1 });
    expect(validation.checks.map((check) => check.name)).toContain("worker integration");
    expect(validation.status).not.toBe("fail");
    await store.close();
  });
});
