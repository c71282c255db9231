// The Worker a QueuedTaskManager runs in its own process for the registered modules: built when
// modules are registered, rebuilt (the old one retiring) when more are, and reporting the runs it
// records to the registry sync.
import type { QueueStore } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import type { RegistrySync } from "./registry-sync.js";
import type { RunRegistry } from "./run-registry.js";
import { executeRun, type RunAttempts, type RunPayload, type RunResult, type RunWorkerContext, runTaskType } from "./run-task.js";
import type { ModuleHandler } from "./task-manager.js";

/** Settings of the embedded worker. */
export interface EmbeddedWorkerTuning {
  readonly concurrency?: number;
  readonly leaseMs?: number;
  readonly heartbeatMs?: number;
  readonly pollIntervalMs?: number;
  /**
   * The worker's claim-ahead (see Worker's `prefetch`). Default "auto" when runs have attempts
   * to spare, else 0: a claim spends an attempt, and a run claimed ahead by a process that then
   * dies must not fail without having run.
   */
  readonly prefetch?: number | "auto";
}

export interface EmbeddedWorkerSettings {
  /** The store the runs are written to (with the manager's database thread, if it has one). */
  readonly store: QueueStore;
  readonly tuning: EmbeddedWorkerTuning;
  readonly attempts: RunAttempts;
  /** The registered modules (the manager adds to it). */
  readonly modules: ReadonlyMap<string, ModuleHandler>;
  readonly registry: RunRegistry;
  readonly sync: RegistrySync;
  /** The manager has closed: no worker is built any more. */
  readonly closed: () => boolean;
}

export class EmbeddedWorker {
  readonly #settings: EmbeddedWorkerSettings;
  #worker: Worker | undefined;
  /** How many modules the current worker was built for: modules are only ever added, so a new count means a new module. */
  #moduleCount = 0;
  /** The current worker has started and runs every registered module. */
  #ready = false;
  /** Workers replaced after more modules were registered, finishing their running tasks. */
  readonly #retiring: Promise<void>[] = [];
  #started: Promise<void> | undefined;
  #startScheduled = false;

  constructor(settings: EmbeddedWorkerSettings) {
    this.#settings = settings;
  }

  /** Whether a started worker runs every registered module. */
  get ready(): boolean {
    return this.#ready;
  }

  /** A new module was registered: it needs a worker built for it before the next run starts. */
  moduleAdded(): void {
    this.#ready = false;
  }

  /**
   * Starts the worker (or rebuilds it to claim a new module's runs too) once the registrations made
   * in this tick are done, so runs left queued by an earlier process resume without waiting for a
   * new startTask. A start failure surfaces on the next startTask.
   */
  startSoon(): void {
    if (this.#startScheduled) return;
    this.#startScheduled = true;
    setImmediate(() => {
      this.#startScheduled = false;
      this.ensure().catch(() => undefined);
    });
  }

  /** Builds (or rebuilds, when modules were added) the worker for the registered modules. */
  ensure(): Promise<void> {
    try {
      return this.#ensureNow();
    } catch (error) {
      // A worker that cannot even be built (bad tuning) fails the runs waiting for it, never the caller's stack.
      return Promise.reject(error);
    }
  }

  /** Stops the worker and those retiring, letting their running tasks finish. */
  async stop(): Promise<void> {
    await Promise.all([this.#worker?.stop(), ...this.#retiring]);
  }

  #ensureNow(): Promise<void> {
    const { store, tuning, attempts, modules, sync } = this.#settings;
    if (this.#settings.closed()) return Promise.resolve();
    // The usual case, on every startTask: a worker already runs every registered module.
    if (this.#worker !== undefined && this.#moduleCount === modules.size) return this.#started ?? Promise.resolve();
    const moduleIds = [...modules.keys()].sort();
    const previous = this.#worker;
    const worker = new Worker({
      store,
      concurrency: tuning.concurrency ?? 8,
      ...(tuning.leaseMs === undefined ? {} : { leaseMs: tuning.leaseMs }),
      // Cancels reach a running handler at the next lease renewal: renew often.
      heartbeatMs: tuning.heartbeatMs ?? 500,
      pollIntervalMs: tuning.pollIntervalMs ?? 20,
      prefetch: tuning.prefetch ?? (attempts.maxAttempts + attempts.crashRecoveries > 1 ? "auto" : 0),
      handlers: Object.fromEntries(
        moduleIds.map((moduleId) => [
          runTaskType(moduleId),
          (payload: unknown, context: RunWorkerContext) => this.#execute(payload as RunPayload, context),
        ]),
      ),
    });
    // Runs this process executes are recorded from the worker's events; the sync timer covers the rest.
    worker.on("recorded", (task, outcome) => sync.record(task, outcome));
    // Expired leases recovered through this connection change runs without a task event.
    worker.on("recovered", () => sync.forgetVersion());
    this.#worker = worker;
    this.#moduleCount = moduleIds.length;
    // The replaced worker stops claiming at once and finishes what it is running.
    if (previous !== undefined) this.#retiring.push(previous.stop());
    this.#ready = false;
    this.#started = worker.start().then(() => {
      // Not if a module was registered meanwhile: that one needs the next worker.
      if (this.#worker === worker && this.#moduleCount === modules.size) this.#ready = true;
    });
    return this.#started;
  }

  #execute(payload: RunPayload, context: RunWorkerContext): Promise<RunResult> {
    const { store, modules, registry } = this.#settings;
    return executeRun(modules, payload, context, registry.get(payload.runId) === undefined ? undefined : registry, store.clock.now());
  }
}
