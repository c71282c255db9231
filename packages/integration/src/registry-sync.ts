// Brings a QueuedTaskManager's RunRegistry in line with the queue: from the embedded worker's
// events for the runs this process executes, and from reads of the queue for the rest (runs
// finished by other processes), skipped while no other process has written (the store's write mark).
import type { QueueStore, Task, TaskError, TaskRow, TaskStatus } from "@queue/core";
import type { RecordedOutcome } from "@queue/worker-engine";
import type { PendingRuns } from "./pending-runs.js";
import { isFinal, isoTime, type Run, runStatusOf } from "./run.js";
import type { RunRegistry } from "./run-registry.js";
import { RUN_KEY_PREFIX, runIdOfKey, runKey } from "./run-task.js";
import { exitCodeOf } from "./task-manager.js";

/** The periodic sync reads the queue at least once in this many intervals, written to or not. */
const FULL_SYNC_EVERY = 10;

export class RegistrySync {
  readonly #store: QueueStore;
  readonly #registry: RunRegistry;
  readonly #pending: PendingRuns;
  /** The store's write mark at the last sync: unchanged means no other process has written since (-1: not known). */
  #syncedMark = -1;
  #skippedSyncs = 0;

  constructor(store: QueueStore, registry: RunRegistry, pending: PendingRuns) {
    this.#store = store;
    this.#registry = registry;
    this.#pending = pending;
    // No run of this manager is pending yet: a sync is due only once another process writes.
    void this.#noteMark();
  }

  /** Something changed runs without a task event (expired leases recovered by this process): the next sync reads. */
  forgetVersion(): void {
    this.#syncedMark = -1;
  }

  /**
   * Reads the state of this manager's unfinished runs from the queue into the registry. Unless
   * `force`d, it skips the read when no other process has written since the last one (this
   * process's own changes arrive as worker events), but reads at least every
   * {@link FULL_SYNC_EVERY} calls all the same. `mark` is the write mark read just before (-1: not known).
   */
  async sync(force = true, mark = -1): Promise<void> {
    if (this.#pending.size === 0) return;
    if (!force && mark !== -1 && mark === this.#syncedMark && this.#skippedSyncs < FULL_SYNC_EVERY) {
      this.#skippedSyncs += 1;
      return;
    }
    this.#syncedMark = mark;
    this.#skippedSyncs = 0;
    const rows = await this.#store.tasksByIdempotencyKeys(this.#pending.map(runKey));
    for (const row of rows) this.#applyRow(row);
    this.#pending.wakeIfDrained();
  }

  /** A sync that reads only if another process has written since the last one (see sync). Never throws: the next one tries again. */
  async syncIfWritten(): Promise<void> {
    if (this.#pending.size === 0) return;
    try {
      await this.sync(false, await this.#store.writeMark());
    } catch {
      // The next one tries again.
    }
  }

  /**
   * Some run ids were in the queue already (runs of an earlier process): read their state now. The
   * runs are written whatever happens here; a failed read is left to the periodic sync.
   */
  async syncAfterWrite(): Promise<void> {
    try {
      await this.sync();
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

  /** The write mark when the manager starts, unless a sync has read since. */
  async #noteMark(): Promise<void> {
    const mark = await this.#store.writeMark().catch(() => -1);
    if (this.#syncedMark === -1) this.#syncedMark = mark;
  }

  /** A run's task as the queue holds it. The result matters only for a completed run, the error only for a failed one. */
  #applyRow(row: TaskRow): void {
    const key = row.idempotency_key;
    if (key === null) return;
    const status = runStatusOf(row.status);
    const result = status === "completed" && row.result !== null ? JSON.parse(row.result) : undefined;
    const error = status === "failed" && row.error !== null ? (JSON.parse(row.error) as TaskError).message : undefined;
    this.#apply(key, row.status, row.started_at, row.finished_at, result, error, row.progress);
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
      const endedAt = finishedAt ?? this.#store.clock.now();
      patch.finishedAt = isoTime(endedAt);
      patch.durationMs = endedAt - (startedAt ?? endedAt);
      patch.exitCode = status === "completed" ? exitCodeOf(result) : status === "failed" ? 1 : undefined;
      if (status === "failed" && error !== undefined) patch.error = error;
      this.#pending.delete(runId);
    }
    this.#registry.update(runId, patch);
  }
}
