import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { DATABASE_THREAD_STOPPED, QueuedTaskManager } from "@queue/integration";
import { makeTempDir, removeTempDirs, runTypeScript, spawnTypeScript, tempDbPath } from "@queue/test-support";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "./contract.js";

afterEach(removeTempDirs);

const CLI = fileURLToPath(new URL("../../cli/src/bin.ts", import.meta.url));
const MODULES = fileURLToPath(new URL("./fixtures/run-modules.ts", import.meta.url));

describe("QueuedTaskManager with separate worker processes", () => {
  it("10 runs executed by 3 `queue work` processes all complete, once each, and the registry shows it", async () => {
    const path = tempDbPath();
    const manager = new QueuedTaskManager({ path, embeddedWorker: false, syncIntervalMs: 20 });
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        manager.startTask({ id: `square-${n}`, moduleId: "square", parameters: { n, expected: n * n } }),
      ),
    );
    expect(manager.getActiveTaskCount()).toBe(10);
    const workers = await Promise.all(
      [0, 1, 2].map(() =>
        runTypeScript(CLI, ["work", "--handlers", MODULES, "--db", path, "--concurrency", "2", "--until-empty", "--json"], {
          env: { NO_COLOR: "1" },
        }),
      ),
    );
    for (const worker of workers) expect(worker.code).toBe(0);
    await manager.waitAll();
    expect(runs.map((run) => manager.registry.get(run.id)).every((run) => run?.status === "completed" && run.exitCode === 0)).toBe(true);
    expect(manager.getActiveTaskCount()).toBe(0);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT max(attempts) AS attempts, count(*) AS n FROM tasks").get()).toEqual({ attempts: 1, n: 10 });
    db.close();
    await manager.close();
  });

  it("a run whose worker is killed with SIGKILL mid-run completes in another worker after its lease expires", async () => {
    const path = tempDbPath();
    const marker = join(makeTempDir(), "first-attempt.pid");
    // The default keeps one attempt for a crash: the first one is lost with the process.
    const manager = new QueuedTaskManager({ path, embeddedWorker: false, syncIntervalMs: 20 });
    const run = await manager.startTask({ id: "crash-1", moduleId: "hang-once", parameters: { marker } });
    const doomed = spawnTypeScript(CLI, ["work", "--handlers", MODULES, "--db", path, "--lease-ms", "600"], { env: { NO_COLOR: "1" } });
    await until(() => existsSync(marker) && manager.registry.get(run.id)?.status === "running", 30_000);
    const pid = Number(readFileSync(marker, "utf8"));
    expect(pid).toBe(doomed.child.pid);
    doomed.child.kill("SIGKILL");
    expect((await doomed.done).signal).toBe("SIGKILL");
    // The killed process released nothing: the run stays leased until its lease runs out.
    expect(manager.registry.get(run.id)?.status).toBe("running");
    await new Promise((resolve) => setTimeout(resolve, 700));
    const rescuer = await runTypeScript(CLI, ["work", "--handlers", MODULES, "--db", path, "--until-empty", "--json"], {
      env: { NO_COLOR: "1" },
    });
    expect(rescuer.code).toBe(0);
    await manager.waitAll();
    expect(manager.registry.get(run.id)).toMatchObject({ status: "completed", exitCode: 0 });
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT status, attempts FROM tasks").get()).toEqual({ status: "completed", attempts: 2 });
    db.close();
    await manager.close();
  });
});

describe("QueuedTaskManager: progress from another process", () => {
  it("progress a handler reports in a `queue work` process reaches the manager's registry while the run goes on", async () => {
    const path = tempDbPath();
    const marker = join(makeTempDir(), "finish");
    const manager = new QueuedTaskManager({ path, embeddedWorker: false, syncIntervalMs: 20 });
    const run = await manager.startTask({ id: "halfway", moduleId: "half-then-wait", parameters: { marker } });
    const worker = spawnTypeScript(CLI, ["work", "--handlers", MODULES, "--db", path], { env: { NO_COLOR: "1" } });
    try {
      await until(() => manager.registry.get(run.id)?.progress === 0.5, 30_000);
      expect(manager.registry.get(run.id)?.status).toBe("running");
      writeFileSync(marker, "");
      await manager.waitAll();
      expect(manager.registry.get(run.id)).toMatchObject({ status: "completed", progress: 0.5 });
    } finally {
      worker.child.kill("SIGTERM");
      await worker.done;
      await manager.close();
    }
  });
});

describe("QueuedTaskManager: reading run state back from the queue", () => {
  it("notices a change made through its own connection without a worker event, at the next full sync", async () => {
    const manager = new QueuedTaskManager({ path: tempDbPath(), embeddedWorker: false, syncIntervalMs: 5 });
    await manager.startTask({ id: "held", moduleId: "anything", parameters: {} });
    // A cancel through the manager's own connection: no other connection writes, so data_version
    // never changes; the periodic full sync must still bring the run up to date.
    await new Promise((resolve) => setTimeout(resolve, 50)); // a few syncs have read the queued run
    const row = manager.db.statement<{ id: number }>("SELECT id FROM tasks WHERE idempotency_key = 'run:held'").get();
    await new QueueClient({ db: manager.db }).cancel(row?.id as number);
    await until(() => manager.registry.get("held")?.status === "cancelled");
    await manager.close();
  });

  it("notices a run finished by another connection at the next interval", async () => {
    const path = tempDbPath();
    const manager = new QueuedTaskManager({ path, embeddedWorker: false, syncIntervalMs: 5 });
    await manager.startTask({ id: "elsewhere", moduleId: "anything", parameters: {} });
    const other = new Database(path);
    other.prepare("UPDATE tasks SET status = 'cancelled', finished_at = ? WHERE idempotency_key = 'run:elsewhere'").run(Date.now());
    other.close();
    await until(() => manager.registry.get("elsewhere")?.status === "cancelled");
    await manager.close();
  });
});

describe("QueuedTaskManager: the embedded worker", () => {
  it("with no crash recoveries, claims no run ahead of a free slot (a crash must not fail runs that never ran)", async () => {
    const path = tempDbPath();
    const manager = new QueuedTaskManager({ path, crashRecoveries: 0, embeddedWorker: { concurrency: 2, pollIntervalMs: 5 } });
    // A run claimed ahead would be leased before its module started. (A run that has finished
    // stays leased until its outcome is recorded, just after the claim that refills its slot.)
    const started = new Set<string>();
    manager.registerModule("short", (_parameters, { runId }) => {
      started.add(runId);
      return new Promise((resolve) => setTimeout(resolve, 2));
    });
    const watcher = new Database(path, { readonly: true });
    const leased = watcher.prepare("SELECT substr(idempotency_key, 5) AS runId FROM tasks WHERE status = 'leased'");
    let most = 0;
    let ahead = 0;
    const sampler = setInterval(() => {
      const runs = (leased.all() as { runId: string }[]).map((row) => row.runId);
      most = Math.max(most, runs.length);
      ahead = Math.max(ahead, runs.filter((runId) => !started.has(runId)).length);
    }, 1);
    await Promise.all(Array.from({ length: 60 }, (_, n) => manager.startTask({ id: `short-${n}`, moduleId: "short", parameters: {} })));
    await manager.waitAll();
    clearInterval(sampler);
    watcher.close();
    expect(manager.registry.byStatus("completed")).toHaveLength(60);
    expect(most).toBeGreaterThan(0);
    expect(ahead).toBe(0);
    await manager.close();
  });
});

describe("QueuedTaskManager: runs that cannot be written", () => {
  it("refuses a run whose parameters cannot be stored, marks it failed, and writes the runs started beside it", async () => {
    const manager = new QueuedTaskManager({ path: tempDbPath(), embeddedWorker: { concurrency: 4, pollIntervalMs: 5 } });
    manager.registerModule("echo", async (parameters) => parameters);
    const outcomes = await Promise.allSettled([
      manager.startTask({ id: "fine-1", moduleId: "echo", parameters: { n: 1 } }),
      manager.startTask({ id: "big-number", moduleId: "echo", parameters: { n: 10n } }),
      manager.startTask({ id: "fine-2", moduleId: "echo", parameters: { n: 2 } }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(outcomes[1]).toMatchObject({ reason: { code: "INVALID_PAYLOAD" } });
    await manager.waitAll();
    expect(manager.registry.get("big-number")).toMatchObject({ status: "failed", error: expect.stringContaining("BigInt") });
    expect(manager.registry.get("fine-1")?.status).toBe("completed");
    expect(manager.registry.get("fine-2")?.status).toBe("completed");
    expect(manager.getActiveTaskCount()).toBe(0);
    await manager.close();
  });
});

describe("QueuedTaskManager: writing from a database thread", () => {
  it("writes runs, claims and outcomes on a second connection, and still notices runs finished elsewhere", async () => {
    const path = tempDbPath();
    const manager = new QueuedTaskManager({
      path,
      databaseThread: true,
      embeddedWorker: { concurrency: 4, pollIntervalMs: 5 },
      syncIntervalMs: 5,
    });
    expect(await manager.databaseThread?.ready).toBe(true);
    manager.registerModule("double", async (parameters) => (parameters as { n: number }).n * 2);
    // Commits by another connection move this connection's data_version; its own do not.
    const version = () => manager.db.statement<{ data_version: number }>("PRAGMA data_version").get()?.data_version;
    const before = version();
    await Promise.all(Array.from({ length: 50 }, (_, n) => manager.startTask({ id: `t-${n}`, moduleId: "double", parameters: { n } })));
    await manager.waitAll();
    expect(version()).not.toBe(before);
    expect(manager.registry.byStatus("completed")).toHaveLength(50);
    expect(manager.registry.get("t-21")).toMatchObject({ status: "completed", exitCode: 0 });
    // A run without a module here, finished by another process: the periodic sync reads it.
    await manager.startTask({
      id: "elsewhere",
      moduleId: "double",
      parameters: { n: 0 },
      scheduledFor: new Date(Date.now() + 60_000).toISOString(),
    });
    const other = new Database(path);
    other.prepare("UPDATE tasks SET status = 'cancelled', finished_at = ? WHERE idempotency_key = 'run:elsewhere'").run(Date.now());
    other.close();
    await until(() => manager.registry.get("elsewhere")?.status === "cancelled");
    await manager.close();
    expect(manager.databaseThread?.alive).toBe(false);
  });

  it("warns when its thread cannot open the file, and goes on writing from its own connection", async () => {
    const path = tempDbPath();
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const manager = new QueuedTaskManager({ path, databaseThread: true, embeddedWorker: { concurrency: 2, pollIntervalMs: 5 } });
      // The file's folder moves away before the thread, still starting, opens the file: it cannot.
      const folder = dirname(path);
      renameSync(folder, `${folder}-away`);
      const reason = await manager.databaseThread?.stopped;
      renameSync(`${folder}-away`, folder);
      expect(reason).toMatchObject({ code: "CLOSED" });
      await until(() => warnings.length > 0);
      expect(warnings).toEqual([
        expect.objectContaining({
          name: "QueueWarning",
          code: DATABASE_THREAD_STOPPED,
          message: expect.stringMatching(/^The database thread stopped: .*The queue's writes go on through the manager's own connection/),
        }),
      ]);
      manager.registerModule("echo", async (parameters) => parameters);
      await manager.startTask({ id: "after", moduleId: "echo", parameters: { n: 1 } });
      await manager.waitAll();
      expect(manager.registry.get("after")?.status).toBe("completed");
      await manager.close();
      // Closing is not a failure: nothing more is reported.
      expect(warnings).toHaveLength(1);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("goes on without one where a thread cannot share the database", async () => {
    const manager = new QueuedTaskManager({
      path: ":memory:",
      databaseThread: true,
      embeddedWorker: { concurrency: 2, pollIntervalMs: 5 },
    });
    expect(manager.databaseThread).toBeUndefined();
    manager.registerModule("echo", async (parameters) => parameters);
    await manager.startTask({ id: "in-memory", moduleId: "echo", parameters: { n: 1 } });
    await manager.waitAll();
    expect(manager.registry.get("in-memory")?.status).toBe("completed");
    await manager.close();
  });
});
