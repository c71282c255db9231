// Writes the runs a QueuedTaskManager starts as tasks: registered first, then group-committed with
// the other runs started in the same turn of the event loop (or enqueued at once under tracing).
import { GROUP_COMMIT_BATCH, GroupCommitter, groupCommitBatchSize, type QueueClient, type Settled } from "@queue/client";
import { type Clock, type DatabaseThread, enqueueSpansActive } from "@queue/core";
import type { PendingRuns } from "./pending-runs.js";
import type { RegistrySync } from "./registry-sync.js";
import { isoTime, type Run, type RunRequest, runWith, scheduledTimeOf } from "./run.js";
import type { RunRegistry } from "./run-registry.js";
import { type RunAttempts, runTaskInput } from "./run-task.js";

export interface RunWriterSettings {
  readonly client: QueueClient;
  readonly thread: DatabaseThread | undefined;
  readonly registry: RunRegistry;
  readonly attempts: RunAttempts;
  readonly pending: PendingRuns;
  readonly sync: RegistrySync;
}

export class RunWriter {
  readonly #clock: Clock;
  readonly #client: QueueClient;
  readonly #registry: RunRegistry;
  readonly #attempts: RunAttempts;
  readonly #pending: PendingRuns;
  readonly #sync: RegistrySync;
  /**
   * Writes the runs started in one turn of the event loop together. It holds only the run and its
   * promise until then: the task's row is built when its batch is written, so a burst of thousands
   * of starts does not keep a row, a second promise and their closures alive per run meanwhile.
   */
  readonly #committer: GroupCommitter<Run, Run>;

  constructor(settings: RunWriterSettings) {
    this.#client = settings.client;
    this.#clock = settings.client.store.clock;
    this.#registry = settings.registry;
    this.#attempts = settings.attempts;
    this.#pending = settings.pending;
    this.#sync = settings.sync;
    const { thread } = settings;
    const path = settings.client.store.location;
    this.#committer = new GroupCommitter(
      (runs) => this.#writeRuns(runs),
      // Written on the database thread, a batch holds up nothing here: full size.
      () => (thread?.serving === true ? GROUP_COMMIT_BATCH : groupCommitBatchSize(path)),
      (run, error) => this.#notEnqueued(run, error),
    );
  }

  /** Registers the run as queued and writes its task; rejects (the run marked failed) if it cannot be written. */
  write(request: RunRequest): Promise<Run> {
    let run: Run;
    try {
      // Frozen here, so the registry keeps this object rather than a copy of it.
      run = this.#registry.add(runWith(request, { status: "queued", createdAt: isoTime(this.#clock.now()) }));
    } catch (error) {
      return Promise.reject(error);
    }
    this.#pending.add(run.id);
    // With tracing on, the run's send span must start in its caller's context, not in that of the
    // batch it is written with: the client enqueues it now (group-committed all the same).
    if (enqueueSpansActive()) return this.#enqueueNow(run);
    return this.#committer.submit(run);
  }

  /** Resolves once every run submitted so far is written (or failed). */
  drain(): Promise<void> {
    return this.#committer.drain();
  }

  #enqueueNow(run: Run): Promise<Run> {
    let enqueued: Promise<{ readonly created: boolean }>;
    try {
      const task = this.#taskOf(run);
      enqueued = this.#client.enqueue(task.type, task.payload, task.options);
    } catch (error) {
      this.#notEnqueued(run, error);
      return Promise.reject(error);
    }
    return enqueued.then(
      async ({ created }) => {
        if (!created) await this.#sync.syncAfterWrite();
        return run;
      },
      (error: unknown) => {
        this.#notEnqueued(run, error);
        throw error;
      },
    );
  }

  /** The task that carries `run`. A scheduled run's time is read from the run again (startTask checked it). */
  #taskOf(run: Run): ReturnType<typeof runTaskInput> {
    return runTaskInput(run, this.#attempts, scheduledTimeOf(run));
  }

  /** Writes one batch of runs as tasks, in one transaction; a run that cannot be written fails alone. */
  async #writeRuns(runs: readonly Run[]): Promise<Settled<Run>[]> {
    const outcomes = await this.#client.enqueueEach(runs.map((run) => this.#taskOf(run)));
    let known = false;
    const settled = outcomes.map((outcome, index): Settled<Run> => {
      if (!outcome.ok) return outcome;
      if (!outcome.value.created) known = true;
      return { ok: true, value: runs[index] as Run };
    });
    if (known) await this.#sync.syncAfterWrite();
    return settled;
  }

  /** Marks a run whose task could not be written as failed (its start rejects with `error`). */
  #notEnqueued(run: Run, error: unknown): void {
    this.#pending.delete(run.id);
    this.#pending.wakeIfDrained();
    this.#registry.update(run.id, {
      status: "failed",
      error: (error as Error).message,
      finishedAt: isoTime(this.#clock.now()),
    });
  }
}
