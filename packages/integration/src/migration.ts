// Moving in-flight work between the in-memory world and the queue.
import { join } from "node:path";
import { QueueClient } from "@queue/client";
import {
  asStore,
  listUnfinishedTasks,
  openQueueStore,
  QueueDatabase,
  QueueError,
  type QueueStore,
  SqliteStore,
  type TaskRow,
  taskFromRow,
  writeFileDurably,
} from "@queue/core";
import { backup, backupFileName } from "@queue/maintenance";
import { type CheckResult, QueueValidator, type ValidationReport, worstStatus } from "@queue/validation";
import { isFinal, type Run } from "./run.js";
import { RunRegistry } from "./run-registry.js";
import { RUN_TASK_TYPE_PREFIX, resolveRunAttempts, runIdOfKey, runKey, runTaskInput } from "./run-task.js";

/** The queue to work on: a store of any backend, or an open SQLite database. Either is left open. */
export type QueueTarget =
  | { readonly store: QueueStore; readonly db?: undefined }
  | { readonly db: QueueDatabase; readonly store?: undefined };

/** The store of a target (an open SQLite database is served by a SqliteStore that leaves it open). */
export function storeOf(target: QueueTarget, caller: string): QueueStore {
  const source = target.store ?? target.db;
  if (source === undefined || (target.store !== undefined && target.db !== undefined))
    throw new QueueError("INVALID_ARGUMENT", `Give ${caller} one of store or db.`);
  return asStore(source);
}

/**
 * QueueValidator's checks on a SQLite store. They check a SQLite file (schema, PRAGMAs, integrity,
 * query plans): on a store of another backend the report holds one check saying so.
 */
export async function validateQueue(store: QueueStore): Promise<ValidationReport> {
  if (store instanceof SqliteStore) return new QueueValidator(store.db).validateAll();
  const checks: CheckResult[] = [
    {
      name: "file checks",
      status: "pass",
      message: `not applicable to ${store.backend}: they check a SQLite file (schema, PRAGMAs, integrity, query plans)`,
      durationMs: 0,
    },
  ];
  return { path: store.location, at: new Date().toISOString(), status: worstStatus(checks), checks };
}

export interface InitializeQueueResult {
  /** Where the queue is: the file's path, or the database's URL without its password. */
  readonly path: string;
  /** The SQLite file's schema version; absent for a store of another backend. */
  readonly schemaVersion?: number;
  readonly validation: ValidationReport;
  readonly backup?: string;
}

export type InitializeQueueOptions = (
  | { readonly path: string; readonly store?: undefined; readonly db?: undefined }
  | (QueueTarget & { readonly path?: undefined })
) & {
  /** Back the SQLite file up into this directory (not for another backend: use its own tools, such as pg_dump). */
  readonly backupDirectory?: string;
};

/**
 * Creates (or migrates) the queue, validates it, and optionally backs it up into `backupDirectory`.
 * `path` is a SQLite file or a postgres:// URL, opened and closed here; or give the `store` or `db`
 * to use, which is left open.
 */
export async function initializeQueue(options: InitializeQueueOptions): Promise<InitializeQueueResult> {
  const store = options.path === undefined ? storeOf(options, "initializeQueue") : openQueueStore({ location: options.path });
  try {
    const db = store instanceof SqliteStore ? store.db : undefined;
    if (options.backupDirectory !== undefined && db === undefined)
      throw new QueueError(
        "INVALID_ARGUMENT",
        `backupDirectory copies a SQLite file, and ${store.location} is a ${store.backend} database; back it up with its own tools (for PostgreSQL, pg_dump).`,
      );
    const validation = await validateQueue(store);
    const copy =
      options.backupDirectory === undefined || db === undefined
        ? undefined
        : (await backup(db, join(options.backupDirectory, backupFileName(db.path, new Date(db.clock.now()))))).file;
    return {
      path: store.location,
      ...(db === undefined ? {} : { schemaVersion: db.schemaVersion() }),
      validation,
      ...(copy === undefined ? {} : { backup: copy }),
    };
  } finally {
    if (options.path !== undefined) await store.close();
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
 * Moves queued and running runs into the queue (a `store` of any backend, or an open SQLite `db`)
 * as queued tasks (a run that was running starts again). Idempotent: each run is enqueued under its run id, so migrating twice creates nothing new.
 * With `dryRun`, reports the plan and writes nothing.
 */
export async function migrateInflightRuns(
  options: QueueTarget & {
    readonly from: RunRegistry | string;
    readonly dryRun?: boolean;
    /** As QueuedTaskManager's options of the same names. */
    readonly maxAttempts?: number;
    readonly crashRecoveries?: number;
  },
): Promise<MigrationReport> {
  const store = storeOf(options, "migrateInflightRuns");
  const attempts = resolveRunAttempts(options);
  const runs = runsOf(options.from);
  const inflight = runs.filter((run) => !isFinal(run.status));
  const stored = await store.tasksByIdempotencyKeys(inflight.map((run) => runKey(run.id)));
  const present = new Set(stored.map((row) => runIdOfKey(row.idempotency_key as string)));
  const toMigrate = inflight.filter((run) => !present.has(run.id));
  if (!options.dryRun && toMigrate.length > 0) {
    const client = new QueueClient({ store });
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

export interface ExportQueueStateOptions {
  /** Also write the records to this file, as NDJSON (replacing it whole). */
  readonly file?: string;
}

/**
 * The queue's unfinished runs (queued or leased), optionally written to `file` as NDJSON. On a store
 * it resolves with them; on an open SQLite database it answers at once.
 */
export function exportQueueState(db: QueueDatabase, options?: ExportQueueStateOptions): QueuedRunRecord[];
export function exportQueueState(store: QueueStore, options?: ExportQueueStateOptions): Promise<QueuedRunRecord[]>;
export function exportQueueState(
  source: QueueStore | QueueDatabase,
  options?: ExportQueueStateOptions,
): QueuedRunRecord[] | Promise<QueuedRunRecord[]>;
export function exportQueueState(
  source: QueueStore | QueueDatabase,
  options: ExportQueueStateOptions = {},
): QueuedRunRecord[] | Promise<QueuedRunRecord[]> {
  if (source instanceof QueueDatabase) return runRecords(listUnfinishedTasks(source, RUN_TASK_TYPE_PREFIX), options);
  return source.listUnfinishedTasks(RUN_TASK_TYPE_PREFIX).then((rows) => runRecords(rows, options));
}

function runRecords(rows: readonly TaskRow[], options: ExportQueueStateOptions): QueuedRunRecord[] {
  const records = rows.map((row) => {
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
