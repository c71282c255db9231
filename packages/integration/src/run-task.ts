// How a run travels through the queue: its task type, payload and attempts, and how a worker runs
// it with the registered module. Shared by QueuedTaskManager, `runHandlers` and the migration tools.
import type { EnqueueOptions } from "@queue/client";
import { QueueError } from "@queue/core";
import { markPermanent, PermanentError } from "@queue/worker-engine";
import { isoTime, type Run } from "./run.js";
import type { RunRegistry } from "./run-registry.js";
import { exitCodeOf, type ModuleHandler, type RunContext, type RunProgress } from "./task-manager.js";

/** The task type that carries runs through the queue. */
export const RUN_TASK_TYPE_PREFIX = "integration.run:";

/**
 * The task type of a module's runs. Each module has its own, so a worker claims only the modules it
 * has registered: workers are never handed runs they cannot execute.
 */
export function runTaskType(moduleId: string): string {
  let type = runTaskTypes.get(moduleId);
  if (type === undefined) {
    type = `${RUN_TASK_TYPE_PREFIX}${moduleId}`;
    // Module ids are few and long-lived: remember each one's type rather than build it per run.
    if (runTaskTypes.size < MAX_REMEMBERED_TYPES) runTaskTypes.set(moduleId, type);
  }
  return type;
}

const runTaskTypes = new Map<string, string>();
const MAX_REMEMBERED_TYPES = 1_000;

/** What begins the idempotency key of every run's task. */
export const RUN_KEY_PREFIX = "run:";

/** The idempotency key of a run's task. */
export function runKey(runId: string): string {
  return `${RUN_KEY_PREFIX}${runId}`;
}

/** The run id in a run's idempotency key (one made by runKey). */
export function runIdOfKey(key: string): string {
  return key.slice(RUN_KEY_PREFIX.length);
}

export interface RunPayload {
  readonly runId: string;
  readonly moduleId: string;
  readonly parameters: Record<string, unknown>;
  /**
   * A failure on this attempt or a later one is final. The task's further attempts are kept for
   * runs whose process died. Absent in tasks written by earlier versions: every attempt may retry.
   */
  readonly failAfter?: number;
}

/** How many times a run may be attempted. */
export interface RunAttempts {
  /** Attempts a run that fails gets (1: a failure is final, as in memory). */
  readonly maxAttempts: number;
  /** Further attempts kept for a run whose process died mid-run (0: such a run is failed). */
  readonly crashRecoveries: number;
}

export const DEFAULT_RUN_ATTEMPTS: RunAttempts = Object.freeze({ maxAttempts: 1, crashRecoveries: 1 });

/** Checks the attempt settings of a manager or migration; a clear INVALID_CONFIG error otherwise. */
export function resolveRunAttempts(options: { readonly maxAttempts?: number; readonly crashRecoveries?: number }): RunAttempts {
  const maxAttempts = options.maxAttempts ?? DEFAULT_RUN_ATTEMPTS.maxAttempts;
  const crashRecoveries = options.crashRecoveries ?? DEFAULT_RUN_ATTEMPTS.crashRecoveries;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new QueueError("INVALID_CONFIG", `maxAttempts must be a whole number of at least 1; got ${String(maxAttempts)}.`);
  }
  if (!Number.isSafeInteger(crashRecoveries) || crashRecoveries < 0 || crashRecoveries > 100) {
    throw new QueueError(
      "INVALID_CONFIG",
      `crashRecoveries must be a whole number from 0 to 100 (0: a run whose process dies is failed); got ${String(crashRecoveries)}.`,
    );
  }
  return { maxAttempts, crashRecoveries };
}

/** The task that carries `run`: its type, payload and enqueue options. */
export function runTaskInput(
  run: Pick<Run, "id" | "moduleId" | "parameters">,
  attempts: RunAttempts,
  runAt?: number,
): { readonly type: string; readonly payload: RunPayload; readonly options: EnqueueOptions } {
  return {
    type: runTaskType(run.moduleId),
    payload: { runId: run.id, moduleId: run.moduleId, parameters: run.parameters, failAfter: attempts.maxAttempts },
    options: {
      idempotencyKey: runKey(run.id),
      maxAttempts: attempts.maxAttempts + attempts.crashRecoveries,
      ...(runAt === undefined ? {} : { runAt }),
    },
  };
}

/** What a run needs from the worker's task context. */
export interface RunWorkerContext {
  readonly task: { readonly attempts: number };
  readonly signal: AbortSignal;
  progress(value: number): Promise<void>;
}

/** Runs one queued run with its registered module; shared by the manager and `runHandlers`. */
export function executeRun(
  modules: ReadonlyMap<string, ModuleHandler>,
  payload: RunPayload,
  context: RunWorkerContext,
  registry: RunRegistry | undefined,
  now: number,
): Promise<RunResult> {
  const handler = modules.get(payload.moduleId);
  if (handler === undefined) {
    return Promise.reject(new PermanentError(`No module ${JSON.stringify(payload.moduleId)} is registered in this process.`));
  }
  let running: Promise<unknown>;
  try {
    registry?.update(payload.runId, { status: "running", startedAt: isoTime(now) });
    running = Promise.resolve(handler(payload.parameters, new ModuleContext(payload.runId, context, registry)));
  } catch (error) {
    running = Promise.reject(error);
  }
  return running.then(
    (result) => {
      const exitCode = exitCodeOf(result);
      // Nothing is stored for the usual exit code 0: a completed run without a result exited with 0.
      return exitCode === 0 ? undefined : { exitCode };
    },
    (error: unknown) => {
      // The attempts beyond failAfter are for crashes: a failure uses none of them.
      throw payload.failAfter !== undefined && context.task.attempts >= payload.failAfter ? markPermanent(error) : error;
    },
  );
}

/**
 * What a module gets as its RunContext. The signal is handed on lazily (most modules never read
 * it, and each one costs an AbortController), and reportProgress is made when first read.
 */
class ModuleContext implements RunContext {
  readonly runId: string;
  readonly #worker: RunWorkerContext;
  readonly #registry: RunRegistry | undefined;
  #reportProgress: RunContext["reportProgress"] | undefined;

  constructor(runId: string, worker: RunWorkerContext, registry: RunRegistry | undefined) {
    this.runId = runId;
    this.#worker = worker;
    this.#registry = registry;
  }

  get signal(): AbortSignal {
    return this.#worker.signal;
  }

  /** A function of its own, so a module may take it off the context: `const { reportProgress } = context`. */
  get reportProgress(): RunContext["reportProgress"] {
    this.#reportProgress ??= async (update: RunProgress) => {
      if (update.progress !== undefined) await this.#worker.progress(update.progress);
      this.#registry?.update(this.runId, update);
    };
    return this.#reportProgress;
  }
}

/** What a run's task stores as its result: its exit code, unless that is 0. */
export type RunResult = { readonly exitCode: number } | undefined;

/**
 * Worker handlers that run registered modules, for `queue work` processes:
 *   export default runHandlers({ "import-users": async (parameters, { signal }) => { ... } });
 */
export function runHandlers(
  modules: Readonly<Record<string, ModuleHandler>>,
): Record<string, (payload: unknown, context: RunWorkerContext) => Promise<RunResult>> {
  const map = new Map(Object.entries(modules));
  return Object.fromEntries(
    [...map.keys()].map((moduleId) => [
      runTaskType(moduleId),
      (payload: unknown, context: RunWorkerContext) => executeRun(map, payload as RunPayload, context, undefined, Date.now()),
    ]),
  );
}
