import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isQueueError, openQueueDatabase, type QueueStore, SqliteStore } from "@queue/core";
import {
  exportQueueState,
  initializeQueue,
  migrateInflightRuns,
  QueuedTaskManager,
  RunRegistry,
  validateMigration,
} from "@queue/integration";
import { makeTempDir, removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { until } from "./contract.js";

afterEach(removeTempDirs);

function registryWithRuns(file?: string): RunRegistry {
  const registry = new RunRegistry(file === undefined ? {} : { file });
  const at = new Date(Date.UTC(2030, 0, 1)).toISOString();
  registry.add({ id: "waiting", moduleId: "report", parameters: { month: 1 }, status: "queued", createdAt: at });
  registry.add({ id: "halfway", moduleId: "report", parameters: { month: 2 }, status: "running", createdAt: at, startedAt: at });
  registry.add({ id: "done", moduleId: "report", parameters: { month: 3 }, status: "completed", createdAt: at, finishedAt: at });
  return registry;
}

describe("migration tooling", () => {
  it("initializes a queue file: created, validated, backed up", async () => {
    const path = tempDbPath();
    const backups = makeTempDir();
    const result = await initializeQueue({ path, backupDirectory: backups });
    expect(result.validation.status).toBe("pass");
    expect(result.backup !== undefined && existsSync(result.backup)).toBe(true);
  });

  it("moves in-flight runs into the queue once, with a dry run first, and they run there", async () => {
    const db = openQueueDatabase({ path: tempDbPath() });
    const registry = registryWithRuns();
    const plan = await migrateInflightRuns({ from: registry, db, dryRun: true });
    expect(plan).toEqual({ dryRun: true, migrated: ["waiting", "halfway"], alreadyInQueue: [], finished: 1 });
    expect(db.statement("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 0 });
    expect(await migrateInflightRuns({ from: registry, db })).toMatchObject({ migrated: ["waiting", "halfway"], alreadyInQueue: [] });
    expect(await migrateInflightRuns({ from: registry, db })).toMatchObject({ migrated: [], alreadyInQueue: ["waiting", "halfway"] });
    expect(db.statement("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 2 });

    const exported = join(makeTempDir(), "inflight.ndjson");
    const records = exportQueueState(db, { file: exported });
    expect(records.map((record) => [record.runId, record.moduleId, record.status])).toEqual([
      ["waiting", "report", "queued"],
      ["halfway", "report", "queued"],
    ]);
    expect(readFileSync(exported, "utf8").trim().split("\n")).toHaveLength(2);

    const months: number[] = [];
    const manager = new QueuedTaskManager({ db, embeddedWorker: { pollIntervalMs: 5 } });
    manager.registerModule("report", async (parameters) => void months.push(parameters.month as number));
    await manager.startTask({ id: "kick", moduleId: "report", parameters: { month: 0 } });
    await manager.waitAll();
    // The migrated runs are not in this manager's registry: wait until the queue has none left.
    await until(() => exportQueueState(db).length === 0);
    await manager.close();
    expect(months.sort()).toEqual([0, 1, 2]);
    expect(exportQueueState(db)).toEqual([]);
    db.close();
  });

  it("reads in-flight runs from a saved registry history file", async () => {
    const file = join(makeTempDir(), "runs.json");
    registryWithRuns(file).save();
    const db = openQueueDatabase({ path: tempDbPath() });
    expect(await migrateInflightRuns({ from: file, db })).toMatchObject({ migrated: ["waiting", "halfway"], finished: 1 });
    db.close();
  });

  it("works on any store: the SQLite file's checks are reported as not applicable to another backend", async () => {
    const sqlite = SqliteStore.open({ path: tempDbPath() });
    const other = otherBackend(sqlite);
    const initialized = await initializeQueue({ store: other });
    expect(initialized.path).toBe(sqlite.location);
    expect(initialized.schemaVersion).toBeUndefined();
    expect(initialized.validation.checks).toEqual([
      expect.objectContaining({ name: "file checks", status: "pass", message: expect.stringMatching(/^not applicable to other:/) }),
    ]);
    const refused = await initializeQueue({ store: other, backupDirectory: makeTempDir() }).catch((error: unknown) => error);
    expect(isQueueError(refused, "INVALID_ARGUMENT") && (refused as Error).message).toMatch(/copies a SQLite file.*pg_dump/);

    expect((await migrateInflightRuns({ from: registryWithRuns(), store: other })).migrated).toEqual(["waiting", "halfway"]);
    expect((await exportQueueState(other)).map((record) => record.runId)).toEqual(["waiting", "halfway"]);
    const validation = await validateMigration(other);
    expect(validation.checks.map((check) => [check.name, check.status])).toEqual([
      ["file checks", "pass"],
      ["workers alive", "warn"],
      ["worker integration", "pass"],
    ]);
    expect(validation.status).toBe("warn");
    expect((await initializeQueue({ store: sqlite })).schemaVersion).toEqual(expect.any(Number));
    await sqlite.close();
  });
});

/** The store as a backend other than SQLite would present it: the same operations, no SQLite database. */
function otherBackend(store: SqliteStore): QueueStore {
  return new Proxy(store, {
    getPrototypeOf: () => Object.prototype,
    get: (target, property) => {
      if (property === "backend") return "other";
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
