import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BackgroundTaskManager,
  createTaskManager,
  QueuedTaskManager,
  resolveTaskExecutionConfig,
  taskManagerEvents,
} from "@queue/integration";
import { makeTempDir, removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(removeTempDirs);

describe("createTaskManager", () => {
  it("reads the backend from a config file, the environment and an object, in that order of precedence", () => {
    const file = join(makeTempDir(), "app.yaml");
    writeFileSync(file, "task_execution:\n  backend: queue\n  queue_db_path: /from/file.db\n  fallback_enabled: false\n");
    expect(resolveTaskExecutionConfig({ configFile: file, env: {} })).toEqual({
      backend: "queue",
      queueDbPath: "/from/file.db",
      fallbackEnabled: false,
    });
    expect(
      resolveTaskExecutionConfig({ configFile: file, env: { QUEUE_DB_PATH: "/from/env.db", QUEUE_FALLBACK_ENABLED: "yes" } }),
    ).toMatchObject({
      queueDbPath: "/from/env.db",
      fallbackEnabled: true,
    });
    expect(
      resolveTaskExecutionConfig({ configFile: file, env: { QUEUE_TASK_BACKEND: "queue" }, config: { backend: "in-memory" } }).backend,
    ).toBe("in-memory");
    expect(resolveTaskExecutionConfig({ env: {} })).toEqual({ backend: "in-memory", fallbackEnabled: true });
    expect(() => resolveTaskExecutionConfig({ env: { QUEUE_TASK_BACKEND: "redis" } })).toThrow(/expected "in-memory" or "queue"/);
    expect(() => resolveTaskExecutionConfig({ env: { QUEUE_FALLBACK_ENABLED: "maybe" } })).toThrow(/fallbackEnabled/);
  });

  it("configures what paused intake does from the file or QUEUE_PAUSED_INTAKE, and rejects unknown modes", async () => {
    const file = join(makeTempDir(), "app.yaml");
    writeFileSync(file, "task_execution:\n  paused_intake: hold\n");
    expect(resolveTaskExecutionConfig({ configFile: file, env: {} }).pausedIntake).toBe("hold");
    expect(resolveTaskExecutionConfig({ configFile: file, env: { QUEUE_PAUSED_INTAKE: "reject" } }).pausedIntake).toBe("reject");
    expect(() => resolveTaskExecutionConfig({ env: { QUEUE_PAUSED_INTAKE: "queue-up" } })).toThrow(
      /Invalid pausedIntake "queue-up"; expected "reject" or "hold"/,
    );
    const manager = createTaskManager({ configFile: file, env: {} });
    manager.pauseIntake();
    expect(manager.intakeState()).toEqual({ paused: true, mode: "hold", held: 0 });
    manager.resumeIntake();
    expect(manager.intakeState().paused).toBe(false);
    await manager.close();
  });

  it("turns the database thread on from the file, QUEUE_DATABASE_THREAD or the object, and refuses anything but a flag", async () => {
    const dir = makeTempDir();
    const file = join(dir, "app.yaml");
    writeFileSync(file, `task_execution:\n  backend: queue\n  queue_db_path: ${join(dir, "queue.db")}\n  database_thread: true\n`);
    expect(resolveTaskExecutionConfig({ configFile: file, env: {} }).databaseThread).toBe(true);
    expect(resolveTaskExecutionConfig({ configFile: file, env: { QUEUE_DATABASE_THREAD: "no" } }).databaseThread).toBe(false);
    expect(resolveTaskExecutionConfig({ env: { QUEUE_DATABASE_THREAD: "1" } }).databaseThread).toBe(true);
    expect(() => resolveTaskExecutionConfig({ env: { QUEUE_DATABASE_THREAD: "sometimes" } })).toThrow(
      /Invalid databaseThread "sometimes"; expected true or false \(QUEUE_DATABASE_THREAD accepts/,
    );
    writeFileSync(join(dir, "bad.yaml"), "task_execution:\n  database_thread: 2\n");
    expect(() => resolveTaskExecutionConfig({ configFile: join(dir, "bad.yaml"), env: {} })).toThrow(/Invalid databaseThread 2/);
    const manager = createTaskManager({ configFile: file, env: {} }) as QueuedTaskManager;
    expect(manager).toBeInstanceOf(QueuedTaskManager);
    expect(await manager.databaseThread?.ready).toBe(true);
    await manager.close();
    const without = createTaskManager({ configFile: file, env: { QUEUE_DATABASE_THREAD: "false" } }) as QueuedTaskManager;
    expect(without.databaseThread).toBeUndefined();
    await without.close();
  });

  it("returns the queue-backed manager when the queue opens", async () => {
    const manager = createTaskManager({ config: { backend: "queue", queueDbPath: tempDbPath() }, env: {} });
    expect(manager).toBeInstanceOf(QueuedTaskManager);
    await manager.close();
  });

  it("falls back to in-memory, loudly, when the queue path cannot be used", async () => {
    const notFile = join(makeTempDir(), "a-file");
    writeFileSync(notFile, "x");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const events: string[] = [];
    const off = taskManagerEvents.on("fallback", (message) => events.push(message));
    const manager = createTaskManager({ config: { backend: "queue", queueDbPath: join(notFile, "queue.db") }, env: {} });
    off();
    expect(manager).toBeInstanceOf(BackgroundTaskManager);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining("falling back to in-memory"));
    expect(events).toHaveLength(1);
    warn.mockRestore();
    expect(() =>
      createTaskManager({ config: { backend: "queue", queueDbPath: join(notFile, "queue.db"), fallbackEnabled: false }, env: {} }),
    ).toThrow(expect.objectContaining({ code: expect.stringMatching(/CANNOT_OPEN|READ_ONLY/) }));
  });
});

describe("QueuedTaskManager specifics", () => {
  it("retries a failing run when asked to, and runs survive in the queue file", async () => {
    const path = tempDbPath();
    const manager = new QueuedTaskManager({ path, maxAttempts: 2, embeddedWorker: { pollIntervalMs: 5 }, syncIntervalMs: 10 });
    let calls = 0;
    manager.registerModule("flaky", async () => {
      calls += 1;
      if (calls === 1) throw new Error("first time fails");
    });
    const run = await manager.startTask({ id: "flaky-1", moduleId: "flaky", parameters: {} });
    await manager.waitAll();
    expect(manager.registry.get(run.id)).toMatchObject({ status: "completed" });
    expect(calls).toBe(2);
    await manager.close();
  });

  it("fails a failing run at its last attempt although a crash recovery is kept, with the module's own error", async () => {
    const path = tempDbPath();
    for (const maxAttempts of [1, 3]) {
      const manager = new QueuedTaskManager({ path, maxAttempts, embeddedWorker: { pollIntervalMs: 5 }, syncIntervalMs: 10 });
      let calls = 0;
      manager.registerModule("broken", async () => {
        calls += 1;
        throw new TypeError(`broken ${calls}`);
      });
      const run = await manager.startTask({ id: `broken-${maxAttempts}`, moduleId: "broken", parameters: {} });
      await manager.waitAll();
      expect(calls).toBe(maxAttempts);
      expect(manager.registry.get(run.id)).toMatchObject({ status: "failed", error: `broken ${maxAttempts}`, exitCode: 1 });
      const task = manager.db
        .statement<{ attempts: number; max_attempts: number; name: string }>(
          "SELECT attempts, max_attempts, error ->> '$.name' AS name FROM tasks WHERE idempotency_key = ?",
        )
        .get(`run:${run.id}`);
      expect(task).toEqual({ attempts: maxAttempts, max_attempts: maxAttempts + 1, name: "TypeError" });
      await manager.close();
    }
  });

  it("refuses attempt settings that are not whole numbers in range, saying which", () => {
    const path = tempDbPath();
    expect(() => new QueuedTaskManager({ path, crashRecoveries: -1 })).toThrow(/crashRecoveries must be a whole number from 0 to 100/);
    expect(() => new QueuedTaskManager({ path, crashRecoveries: 1.5 })).toThrow(/crashRecoveries/);
    expect(() => new QueuedTaskManager({ path, maxAttempts: 0 })).toThrow(/maxAttempts must be a whole number of at least 1/);
  });
});

describe("QueuedTaskManager with an embedded worker that cannot be built", () => {
  it("rejects each run it starts with the worker's error, and never throws from startTask", async () => {
    const manager = new QueuedTaskManager({ path: tempDbPath(), embeddedWorker: { concurrency: 0 } });
    manager.registerModule("noop", async () => undefined);
    let started: Promise<unknown> | undefined;
    expect(() => {
      started = manager.startTask({ id: "never", moduleId: "noop", parameters: {} });
    }).not.toThrow();
    await expect(started).rejects.toThrow(/concurrency/);
    // The attempt made by registerModule itself was caught too: nothing was thrown meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    expect(manager.registry.get("never")).toBeUndefined();
    await manager.close();
  });
});

describe("QueuedTaskManager close", () => {
  it("releases a pending waitAll when the manager closes with runs still queued", async () => {
    const manager = new QueuedTaskManager({ path: tempDbPath(), embeddedWorker: { concurrency: 1, pollIntervalMs: 5 } });
    let release: () => void = () => undefined;
    manager.registerModule("slow", () => new Promise<void>((resolve) => (release = resolve)));
    await manager.startTask({ id: "slow-1", moduleId: "slow", parameters: {} });
    await manager.startTask({ id: "slow-2", moduleId: "slow", parameters: {} });
    const waiting = manager.waitAll();
    setTimeout(() => release(), 50);
    await manager.close();
    await expect(waiting).resolves.toBeUndefined();
    expect(manager.registry.get("slow-2")?.status).toBe("queued");
  });
});

describe("QueuedTaskManager routing", () => {
  it("two managers sharing one file each run only their own modules; none of the other's runs is dead-lettered", async () => {
    const path = tempDbPath();
    const options = { path, embeddedWorker: { pollIntervalMs: 5 }, syncIntervalMs: 10 };
    const importer = new QueuedTaskManager(options);
    const exporter = new QueuedTaskManager(options);
    importer.registerModule("import", async () => ({ exitCode: 0 }));
    exporter.registerModule("export", async () => ({ exitCode: 0 }));
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        n % 2 === 0
          ? importer.startTask({ id: `import-${n}`, moduleId: "import", parameters: {} })
          : exporter.startTask({ id: `export-${n}`, moduleId: "export", parameters: {} }),
      ),
    );
    await Promise.all([importer.waitAll(), exporter.waitAll()]);
    for (const run of runs) {
      const manager = run.moduleId === "import" ? importer : exporter;
      expect(manager.registry.get(run.id)?.status, run.id).toBe("completed");
    }
    await Promise.all([importer.close(), exporter.close()]);
  });

  it("claims runs of a module registered after work has started", async () => {
    const manager = new QueuedTaskManager({ path: tempDbPath(), embeddedWorker: { pollIntervalMs: 5 }, syncIntervalMs: 10 });
    manager.registerModule("first", async () => undefined);
    await manager.startTask({ id: "first-1", moduleId: "first", parameters: {} });
    manager.registerModule("second", async () => ({ exitCode: 3 }));
    const late = await manager.startTask({ id: "second-1", moduleId: "second", parameters: {} });
    await manager.waitAll();
    expect(manager.registry.get(late.id)).toMatchObject({ status: "completed", exitCode: 3 });
    await manager.close();
  });
});
