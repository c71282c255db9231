// Going back from the queue to in-memory execution, and checking a migration.
import { existsSync, readFileSync, statSync } from "node:fs";
import { asStore, type QueueDatabase, type QueueStore, writeFileDurably } from "@queue/core";
import { type CheckResult, validateWorkerIntegration, worstStatus } from "@queue/validation";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { exportQueueState, type QueuedRunRecord, type QueueTarget, storeOf, validateQueue } from "./migration.js";
import type { RunRegistry } from "./run-registry.js";

export interface RollbackReport {
  /** Where the config file was before the flag was flipped. */
  readonly configBackup?: string;
  /** Queued runs taken out of the queue and put back in the registry as queued: re-run them in memory. */
  readonly needsRerun: readonly string[];
  /** Runs a queue worker is executing now: left to finish there (re-running them could run them twice). */
  readonly stillRunning: readonly string[];
}

/** Sets `task_execution.backend` in a YAML or JSON config file, keeping a copy of the old file. */
function flipBackend(file: string, backend: "in-memory" | "queue", now: number): string {
  const backupFile = `${file}.bak-${now}`;
  const text = readFileSync(file, "utf8");
  const mode = statSync(file).mode & 0o777;
  // The backup is on disk before the file changes, and the file is replaced whole or not at all.
  writeFileDurably(backupFile, text, { mode });
  const json = file.endsWith(".json");
  const parsed = ((json ? JSON.parse(text) : parseYaml(text)) ?? {}) as Record<string, unknown>;
  const section = (parsed.task_execution ?? {}) as Record<string, unknown>;
  parsed.task_execution = { ...section, backend };
  writeFileDurably(file, json ? `${JSON.stringify(parsed, null, 2)}\n` : stringifyYaml(parsed), { mode });
  return backupFile;
}

/**
 * Rolls back to in-memory execution: flips the flag in `configFile` (keeping a backup), takes the
 * queued runs out of the queue (a `store` of any backend, or an open SQLite `db`) and re-imports
 * them into the registry as queued, and reports which runs need re-running and which are still
 * running in a queue worker. Rolling forward again is `migrateInflightRuns`, which finds the
 * re-imported runs and enqueues them: nothing is lost.
 */
export async function rollbackToInMemory(
  options: QueueTarget & {
    readonly registry: RunRegistry;
    readonly configFile?: string;
  },
): Promise<RollbackReport> {
  const store = storeOf(options, "rollbackToInMemory");
  const now = store.clock.now();
  const configBackup =
    options.configFile !== undefined && existsSync(options.configFile) ? flipBackend(options.configFile, "in-memory", now) : undefined;
  const inflight = await exportQueueState(store);
  const queued = new Map<number, QueuedRunRecord>();
  for (const record of inflight) if (record.status === "queued") queued.set(record.taskId, record);
  // Only what is still queued is removed: a task claimed meanwhile stays with its worker.
  // The registry's file holds the runs before the removal commits: should the write fail (a full
  // disk), nothing is removed and the runs stay in the queue.
  const removedIds = await store.removeQueuedTasks([...queued.keys()], (ids) =>
    options.registry.changeDurably(() => {
      for (const id of ids) {
        const record = queued.get(id) as QueuedRunRecord;
        const patch = { status: "queued" as const, moduleId: record.moduleId, parameters: record.parameters };
        if (options.registry.get(record.runId) === undefined)
          options.registry.add({ id: record.runId, createdAt: record.createdAt, ...patch });
        else options.registry.update(record.runId, patch);
      }
    }),
  );
  const removed = removedIds.map((id) => queued.get(id) as QueuedRunRecord);
  const movedIds = new Set(removed.map((record) => record.runId));
  return {
    ...(configBackup === undefined ? {} : { configBackup }),
    needsRerun: removed.map((record) => record.runId),
    stillRunning: inflight.filter((record) => !movedIds.has(record.runId)).map((record) => record.runId),
  };
}

/**
 * Checks a migrated setup, on a store (any backend) or an open SQLite database: the queue (on
 * SQLite, the file's checks), live workers, and a real round trip through it.
 */
export async function validateMigration(
  source: QueueStore | QueueDatabase,
  options: { readonly liveWorkerMs?: number } = {},
): Promise<{ status: CheckResult["status"]; checks: CheckResult[] }> {
  const store = asStore(source);
  const report = await validateQueue(store);
  const now = store.clock.now();
  const alive = (await store.listWorkers()).filter((worker) => now - worker.heartbeat_at < (options.liveWorkerMs ?? 60_000));
  const workers: CheckResult = {
    name: "workers alive",
    status: alive.length > 0 ? "pass" : "warn",
    message:
      alive.length > 0
        ? `${alive.length} worker(s) sent a heartbeat recently`
        : `no worker is running on this ${store.backend === "sqlite" ? "file" : "database"}`,
    ...(alive.length > 0 ? {} : { hint: "start workers (`queue work --handlers ...`) or an embedded QueuedTaskManager" }),
    durationMs: 0,
  };
  const checks = [...report.checks, workers, await validateWorkerIntegration(store)];
  return { status: worstStatus(checks), checks };
}
