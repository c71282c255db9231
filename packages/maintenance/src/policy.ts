import { join } from "node:path";
import {
  asStore,
  checkpointWal,
  incrementalVacuum,
  optimize,
  type QueueDatabase,
  QueueError,
  type QueueStore,
  SqliteStore,
} from "@queue/core";
import { backup, backupFileName, pruneBackups } from "./backup.js";
import { cleanup, type RetentionPolicy } from "./retention.js";

const HOUR = 3_600_000;
const INTERVALS = { hourly: HOUR, daily: 24 * HOUR, weekly: 7 * 24 * HOUR, monthly: 30 * 24 * HOUR } as const;

/** How often a job runs: a named interval or milliseconds. `false` turns the job off. */
export type Every = keyof typeof INTERVALS | number | false;

export interface MaintenancePolicy {
  /**
   * WAL checkpoint: a PASSIVE pass, then TRUNCATE (which empties the WAL file) if it can finish
   * within `checkpointMaxWaitMs`. Default daily.
   */
  readonly checkpoint?: Every;
  /** The longest the checkpoint may hold up writers while readers finish. Default 200 ms. */
  readonly checkpointMaxWaitMs?: number;
  /** Online backup into `directory`, keeping the newest `keep`. Off unless given. */
  readonly backup?: { readonly every: Every; readonly directory: string; readonly keep: number };
  /** PRAGMA optimize. Default weekly. */
  readonly optimize?: Every;
  /** Delete log lines older than `olderThanMs` (default 30 days). Default weekly. */
  readonly logCleanup?: { readonly every: Every; readonly olderThanMs?: number };
  /** Task retention (see `cleanup`). Off unless given. */
  readonly cleanup?: { readonly every: Every } & RetentionPolicy;
  /** Incremental vacuum: return free pages to the OS. Default monthly. */
  readonly vacuum?: Every;
}

export const DEFAULT_MAINTENANCE_POLICY: MaintenancePolicy = Object.freeze<MaintenancePolicy>({
  checkpoint: "daily",
  optimize: "weekly",
  logCleanup: { every: "weekly", olderThanMs: 30 * 24 * HOUR },
  vacuum: "monthly",
});

export interface JobReport {
  readonly job: string;
  readonly ran: boolean;
  readonly result?: unknown;
  readonly error?: string;
  /** When the job is next due. */
  readonly nextDueAt: Date;
}

function intervalOf(job: string, every: Every): number | undefined {
  if (every === false) return undefined;
  const ms = typeof every === "number" ? every : INTERVALS[every];
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
    throw new QueueError(
      "INVALID_CONFIG",
      `Maintenance job ${job}: "every" must be hourly, daily, weekly, monthly, a number of ms, or false; got ${String(every)}.`,
    );
  }
  return ms;
}

/**
 * Runs the maintenance jobs that are due under `policy` (merged over the defaults) and records when
 * each ran, in the database, so that calling this from cron or a timer in any process runs each
 * job at its interval. One failing job does not stop the others; its error is in the report.
 * Checkpoint, backup, optimize and vacuum are SQLite's: on another backend they are not run (its
 * own tools do that work).
 */
export async function runMaintenance(
  source: QueueStore | QueueDatabase,
  policy: MaintenancePolicy = {},
  options: { readonly force?: readonly string[] } = {},
): Promise<JobReport[]> {
  const merged = { ...DEFAULT_MAINTENANCE_POLICY, ...policy };
  const store = asStore(source);
  const db = store instanceof SqliteStore ? store.db : undefined;
  const sqliteJobs: [string, Every | undefined, () => Promise<unknown> | unknown][] =
    db === undefined
      ? []
      : [
          [
            "checkpoint",
            merged.checkpoint,
            () => checkpointWal(db, "TRUNCATE", merged.checkpointMaxWaitMs === undefined ? {} : { maxWaitMs: merged.checkpointMaxWaitMs }),
          ],
          [
            "backup",
            merged.backup?.every,
            async () => {
              const settings = merged.backup as NonNullable<MaintenancePolicy["backup"]>;
              const result = await backup(db, join(settings.directory, backupFileName(db.path, new Date(db.clock.now()))));
              return { ...result, pruned: pruneBackups(settings.directory, db.path, settings.keep) };
            },
          ],
          ["optimize", merged.optimize, () => optimize(db)],
        ];
  const jobs: [string, Every | undefined, () => Promise<unknown> | unknown][] = [
    ...sqliteJobs,
    ["logCleanup", merged.logCleanup?.every, () => cleanup(store, { logsOlderThanMs: merged.logCleanup?.olderThanMs ?? 30 * 24 * HOUR })],
    ["cleanup", merged.cleanup?.every, () => cleanup(store, merged.cleanup as RetentionPolicy)],
    ...(db === undefined ? [] : [["vacuum", merged.vacuum, () => incrementalVacuum(db)] as [string, Every | undefined, () => unknown]]),
  ];
  const lastRuns = await store.maintenanceRuns();
  const reports: JobReport[] = [];
  for (const [job, every, run] of jobs) {
    const interval = every === undefined ? undefined : intervalOf(job, every);
    if (interval === undefined) continue;
    const now = store.clock.now();
    const last = lastRuns.get(job);
    const due = options.force?.includes(job) || last === undefined || now - last >= interval;
    if (!due) {
      reports.push({ job, ran: false, nextDueAt: new Date((last ?? now) + interval) });
      continue;
    }
    try {
      const result = await run();
      await store.recordMaintenanceRun(job, now, JSON.stringify(result ?? null));
      reports.push({ job, ran: true, result, nextDueAt: new Date(now + interval) });
    } catch (error) {
      reports.push({ job, ran: true, error: (error as Error).message, nextDueAt: new Date(now) });
    }
  }
  return reports;
}
