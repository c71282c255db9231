// Moving in-flight work between the in-memory world and the queue.
import { join } from "node:path";
import { QueueClient } from "@queue/client";
import {
  asStore,
  listUnfinishedTasks,
  openQueueDatabase,
  type QueueDatabase,
  SCHEMA_VERSION,
  taskFromRow,
  writeFileDurably,
} from "@queue/core";
import { backup, backupFileName } from "@queue/maintenance";
import { QueueValidator, type ValidationReport } from "@queue/validation";
import { isFinal, type Run } from "./run.js";
import { RunRegistry } from "./run-registry.js";
import { RUN_TASK_TYPE_PREFIX, resolveRunAttempts, runIdOfKey, runKey, runTaskInput } from "./run-task.js";

export interface InitializeQueueResult {
  readonly path: string;
  readonly schemaVersion: number;
  readonly validation: ValidationReport;
  readonly backup?: string;
}

/** Creates (or migrates) the queue file, validates it, and optionally backs it up into `backupDirectory`. */
export async function initializeQueue(options: {
  readonly path: string;
  readonly backupDirectory?: string;
}): Promise<InitializeQueueResult> {
  const db = openQueueDatabase({ path: options.path });
  try {
    const validation = await new QueueValidator(db).validateAll();
    const copy =
      options.backupDirectory === undefined
        ? undefined
        : (await backup(db, join(options.backupDirectory, backupFileName(db.path, new Date(db.clock.now()))))).file;
    return { path: db.path, schemaVersion: SCHEMA_VERSION, validation, ...(copy === undefined ? {} : { backup: copy }) };
  } finally {
    db.close();
  }
}

export interface MigrationReport {
  readonly dryRun: boolean;
  /** In-flight runs that became (or, in a dry run, would become) queued tasks. */
  readonly migrated: readonly string[];
  /** In-flight runs already in the queue from an earlier migration: nothing new was created. */
  readonly alreadyInQueue: readonly string[];
  /** Finished runs, which stay where they are. */
  readonly finished: number;
}

/** The runs of a registry, or of its saved JSON history. */
function runsOf(source: RunRegistry | string): Run[] {
  return (typeof source === "string" ? new RunRegistry({ file: source }) : source).all();
}

/**
 * Moves queued and running runs into the queue as queued tasks (a run that was running starts
 * again). Idempotent: each run is enqueued under its run id, so migrating twice creates nothing new.
 * With `dryRun`, reports the plan and writes nothing.
 */
export async function migrateInflightRuns(options: {
  readonly from: RunRegistry | string;
  readonly db: QueueDatabase;
  readonly dryRun?: boolean;
  /** As QueuedTaskManager's options of the same names. */
  readonly maxAttempts?: number;
  readonly crashRecoveries?: number;
}): Promise<MigrationReport> {
  const attempts = resolveRunAttempts(options);
  const runs = runsOf(options.from);
  const inflight = runs.filter((run) => !isFinal(run.status));
  const stored = await asStore(options.db).tasksByIdempotencyKeys(inflight.map((run) => runKey(run.id)));
  const present = new Set(stored.map((row) => runIdOfKey(row.idempotency_key as string)));
  const toMigrate = inflight.filter((run) => !present.has(run.id));
  if (!options.dryRun && toMigrate.length > 0) {
    const client = new QueueClient({ db: options.db });
    await client.enqueueMany(toMigrate.map((run) => runTaskInput(run, attempts)));
    await client.close();
  }
  return {
    dryRun: options.dryRun ?? false,
    migrated: toMigrate.map((run) => run.id),
    alreadyInQueue: inflight.filter((run) => present.has(run.id)).map((run) => run.id),
    finished: runs.length - inflight.length,
  };
}

/** One unfinished run in the queue, as exported. */
export interface QueuedRunRecord {
  readonly runId: string;
  readonly moduleId: string;
  readonly parameters: Record<string, unknown>;
  readonly status: "queued" | "running";
  readonly taskId: number;
  readonly createdAt: string;
}

/** The queue's unfinished runs (queued or leased), optionally written to `file` as NDJSON. */
export function exportQueueState(db: QueueDatabase, options: { readonly file?: string } = {}): QueuedRunRecord[] {
  const records = listUnfinishedTasks(db, RUN_TASK_TYPE_PREFIX).map((row) => {
    const task = taskFromRow<{ runId: string; moduleId: string; parameters: Record<string, unknown> }>(row);
    return {
      runId: task.payload.runId,
      moduleId: task.payload.moduleId,
      parameters: task.payload.parameters,
      status: task.status === "leased" ? ("running" as const) : ("queued" as const),
      taskId: task.id,
      createdAt: task.createdAt.toISOString(),
    };
  });
  if (options.file !== undefined) writeFileDurably(options.file, records.map((record) => `${JSON.stringify(record)}\n`).join(""));
  return records;
}
