import { QueueError } from "@queue/core";
import type { PausedIntakeMode } from "./intake.js";
import { ManagerLifecycle } from "./manager-lifecycle.js";
import { isoTime, type Run, type RunRequest, runWith, scheduledTimeOf } from "./run.js";
import { RunRegistry } from "./run-registry.js";
import { exitCodeOf, type ModuleHandler, type RunProgress, type TaskManager } from "./task-manager.js";

interface Active {
  readonly controller: AbortController;
  readonly done: Promise<void>;
}

/** The in-memory baseline: runs execute as promises in this process and are lost on a restart. */
export class BackgroundTaskManager extends ManagerLifecycle implements TaskManager {
  readonly kind = "in-memory";
  readonly registry: RunRegistry;
  readonly #modules = new Map<string, ModuleHandler>();
  readonly #active = new Map<string, Active>();

  constructor(registry: RunRegistry = new RunRegistry(), options: { readonly pausedIntake?: PausedIntakeMode } = {}) {
    super(options.pausedIntake);
    this.registry = registry;
  }

  registerModule(moduleId: string, handler: ModuleHandler): void {
    this.#modules.set(moduleId, handler);
  }

  /**
   * Starts a run of a registered module, or of `work` given directly (which cannot be persisted). A
   * run with a future `scheduledFor` stays queued (and cancellable) until then.
   */
  async startTask(request: RunRequest, work?: ModuleHandler): Promise<Run> {
    const handler = work ?? this.#modules.get(request.moduleId);
    if (handler === undefined)
      throw new QueueError("NOT_FOUND", `No module ${JSON.stringify(request.moduleId)} is registered; call registerModule() first.`);
    const scheduled = scheduledTimeOf(request);
    await this.intake.admit();
    const now = () => isoTime(this.registry.clock.now());
    const delayMs = scheduled === undefined ? 0 : scheduled - this.registry.clock.now();
    const run = this.registry.add(
      runWith(request, delayMs > 0 ? { status: "queued", createdAt: now() } : { status: "running", createdAt: now(), startedAt: now() }),
    );
    const controller = new AbortController();
    const report = async (update: RunProgress) => {
      this.registry.update(run.id, update);
    };
    const done = waitFor(delayMs, controller.signal)
      .then(() => {
        if (delayMs > 0) this.registry.update(run.id, { status: "running", startedAt: now() });
        return handler(run.parameters, { runId: run.id, signal: controller.signal, reportProgress: report });
      })
      .then(
        (result) =>
          this.#finish(run.id, controller.signal.aborted ? { status: "cancelled" } : { status: "completed", exitCode: exitCodeOf(result) }),
        (error: unknown) =>
          this.#finish(
            run.id,
            controller.signal.aborted
              ? { status: "cancelled" }
              : { status: "failed", exitCode: 1, error: error instanceof Error ? error.message : String(error) },
          ),
      )
      .finally(() => this.#active.delete(run.id));
    this.#active.set(run.id, { controller, done });
    return run;
  }

  async cancelTask(runId: string): Promise<boolean> {
    const active = this.#active.get(runId);
    if (active === undefined) return false;
    active.controller.abort(new Error(`Run ${runId} was cancelled.`));
    return true;
  }

  async waitAll(): Promise<void> {
    while (this.#active.size > 0) await Promise.all([...this.#active.values()].map((active) => active.done));
  }

  getActiveTaskCount(): number {
    return this.#active.size;
  }

  getActiveTaskIds(): string[] {
    return [...this.#active.keys()];
  }

  isTaskActive(runId: string): boolean {
    return this.#active.has(runId);
  }

  close(): Promise<void> {
    return this.closing(async () => {
      for (const active of this.#active.values()) active.controller.abort(new Error("The task manager is closing."));
      await this.waitAll();
      this.registry.save();
    });
  }

  #finish(runId: string, outcome: Pick<Run, "status"> & Partial<Pick<Run, "exitCode" | "error">>): void {
    const run = this.registry.get(runId);
    const finishedAt = this.registry.clock.now();
    const startedAt = run?.startedAt === undefined ? finishedAt : Date.parse(run.startedAt);
    this.registry.update(runId, Object.assign({}, outcome, { finishedAt: isoTime(finishedAt), durationMs: finishedAt - startedAt }));
  }
}

/** Resolves after `ms` (at once when not positive), or rejects with the signal's reason once it aborts. */
function waitFor(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      if (signal.aborted) reject(signal.reason);
      else resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
