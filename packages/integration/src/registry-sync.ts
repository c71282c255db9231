// Brings a QueuedTaskManager's RunRegistry in line with the queue: from the embedded worker's
// events for the runs this process executes, and from reads of the queue for the rest (runs
// finished by other processes), skipped while no other connection has written.
import type { DatabaseThread, QueueDatabase, Task, TaskError, TaskStatus } from "@queue/core";
import type { RecordedOutcome } from "@queue/worker-engine";
import type { PendingRuns } from "./pending-runs.js";
import { isFinal, isoTime, type Run, runStatusOf } from "./run.js";
import type { RunRegistry } from "./run-registry.js";
import { RUN_KEY_PREFIX, runIdOfKey, runKey } from "./run-task.js";
import { exitCodeOf } from "./task-manager.js";

/** The periodic sync reads the queue at least once in this many intervals, written to or not. */
const FULL_SYNC_EVERY = 10;

interface TaskState {
  readonly key: string;
  readonly status: TaskStatus;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly error: string | null;
  readonly result: string | null;
  readonly progress: number | null;
}

/** PRAGMA data_version of the database thread's connection (served there by the worker's ops). */
export function threadDataVersion(thread: DatabaseThread): Promise<number> {
  return thread.call<number>("worker.dataVersion", undefined);
}

export class RegistrySync {
  readonly #db: QueueDatabase;
  readonly #registry: RunRegistry;
  readonly #pending: PendingRuns;
  readonly #thread: DatabaseThread | undefined;
  /** PRAGMA data_version at the last sync: unchanged means no other connection has written since. */
  #syncedVersion = -1;
  #skippedSyncs = 0;

  constructor(db: QueueDatabase, registry: RunRegistry, pending: PendingRuns, thread: DatabaseThread | undefined) {
    this.#db = db;
    this.#registry = registry;
    this.#pending = pending;
    this.#thread = thread;
    // No run of this manager is pending yet: a sync is due only once another connection writes.
    this.#syncedVersion = thread === undefined ? db.dataVersion() : -1;
    if (thread !== undefined) void this.#noteThreadVersion(thread);
  }

  /** Something changed runs without a task event (expired leases recovered through this connection): the next sync reads. */
  forgetVersion(): void {
    this.#syncedVersion = -1;
  }

  /**
   * Reads the state of this manager's unfinished runs from the queue into the registry. Unless
   * `force`d, it skips the read when no other connection has written since the last one (this
   * connection's own changes arrive as worker events), but reads at least every
   * {@link FULL_SYNC_EVERY} calls all the same.
   */
  sync(force = true, version?: number): void {
    if (this.#pending.size === 0 || !this.#db.isOpen) return;
    // -1: not known (see syncIfWritten); then it reads.
    const seen = version ?? (this.#thread === undefined ? this.#db.dataVersion() : -1);
    if (!force && seen !== -1 && seen === this.#syncedVersion && this.#skippedSyncs < FULL_SYNC_EVERY) {
      this.#skippedSyncs += 1;
      return;
    }
    this.#syncedVersion = seen;
    this.#skippedSyncs = 0;
    const rows = this.#db
      .statement<TaskState>(
        `SELECT idempotency_key AS key, status, started_at, finished_at, error, result, progress FROM tasks WHERE idempotency_key IN (SELECT value FROM json_each(?))`,
      )
      .all(JSON.stringify(this.#pending.map(runKey)));
    for (const row of rows) {
      // The result matters only for a completed run, the error only for a failed one.
      const status = runStatusOf(row.status);
      const result = status === "completed" && row.result !== null ? JSON.parse(row.result) : undefined;
      const error = status === "failed" && row.error !== null ? (JSON.parse(row.error) as TaskError).message : undefined;
      this.#apply(row.key, row.status, row.started_at, row.finished_at, result, error, row.progress);
    }
    this.#pending.wakeIfDrained();
  }

  /**
   * A sync that reads only if another connection has written since the last one (see sync). With
   * a database thread, the writes this process makes (and learns of through worker events) are the
   * thread's: its connection's data_version is the one that moves only when another one writes.
   */
  async syncIfWritten(): Promise<void> {
    if (this.#pending.size === 0) return;
    try {
      // Never one connection's count compared with the other's: until the thread serves, not known.
      const thread = this.#thread;
      const version = thread === undefined ? this.#db.dataVersion() : thread.serving ? await threadDataVersion(thread) : -1;
      this.sync(false, version);
    } catch {
      // The next one tries again.
    }
  }

  /**
   * Some run ids were in the file already (runs of an earlier process): read their state now. The
   * runs are written whatever happens here; a failed read is left to the periodic sync.
   */
  syncAfterWrite(): void {
    try {
      this.sync();
    } catch {
      // The next periodic sync reads them.
    }
  }

  /** A run executed by the embedded worker was recorded: its `recorded` event. */
  record(task: Task, outcome: RecordedOutcome): void {
    const key = task.idempotencyKey;
    if (typeof key !== "string" || !key.startsWith(RUN_KEY_PREFIX)) return;
    // #apply reads the time (and result, error) only for an outcome that finished the run.
    this.#apply(key, outcome.status, task.startedAt?.getTime() ?? null, outcome.at, outcome.result, outcome.error?.message);
    this.#pending.wakeIfDrained();
  }

  /**
   * With a database thread, the version the syncs compare is the thread connection's, known once it
   * serves. Taken then unless a sync has read since: another connection's write after it moves it.
   */
  async #noteThreadVersion(thread: DatabaseThread): Promise<void> {
    if (!(await thread.ready) || this.#syncedVersion !== -1) return;
    const version = await threadDataVersion(thread).catch(() => -1);
    if (this.#syncedVersion === -1) this.#syncedVersion = version;
  }

  /**
   * Brings one run's registry entry in line with its task's state, as a worker event or a read of
   * the row reported it. `result` and `error` matter only for a finished run; `progress` is the
   * task's last reported progress (null: none, or not read).
   */
  #apply(
    key: string,
    taskStatus: TaskStatus,
    startedAt: number | null,
    finishedAt: number | null,
    result: unknown,
    error: string | undefined,
    progress: number | null = null,
  ): void {
    const runId = runIdOfKey(key);
    if (!this.#pending.has(runId)) return;
    const run = this.#registry.get(runId);
    if (run === undefined) return;
    const status = runStatusOf(taskStatus);
    const final = isFinal(status);
    // Progress a handler reported, in this process or any other, is the task's to read back while
    // it runs (a finished run keeps the last one reported; completing stores 1 in the task).
    const progressed = !final && progress !== null && progress !== run.progress;
    if (status === run.status && !final && !progressed) return;
    const patch: { -readonly [K in keyof Run]?: Run[K] } = { status };
    if (progressed) patch.progress = progress;
    if (startedAt !== null && run.startedAt === undefined) patch.startedAt = isoTime(startedAt);
    if (final) {
      const endedAt = finishedAt ?? this.#db.clock.now();
      patch.finishedAt = isoTime(endedAt);
      patch.durationMs = endedAt - (startedAt ?? endedAt);
      patch.exitCode = status === "completed" ? exitCodeOf(result) : status === "failed" ? 1 : undefined;
      if (status === "failed" && error !== undefined) patch.error = error;
      this.#pending.delete(runId);
    }
    this.#registry.update(runId, patch);
  }
}
