import type { IntakeState, PauseIntakeOptions } from "./intake.js";
import type { Run, RunRequest } from "./run.js";
import type { RunRegistry } from "./run-registry.js";

/** What a running module can report. */
export interface RunProgress {
  readonly progress?: number;
  readonly itemsProcessed?: number;
  readonly itemsTotal?: number;
}

/**
 * What a running module gets. `signal` and `reportProgress` are accessors, made when first read:
 * pass the context on as it is, or take them off it (`const { signal } = context`); a spread
 * (`{ ...context }`) copies only `runId`.
 */
export interface RunContext {
  readonly runId: string;
  /** Fires when the run is cancelled (or its worker shuts down). */
  readonly signal: AbortSignal;
  reportProgress(update: RunProgress): Promise<void>;
}

/**
 * A unit of work, registered under a module id. Parameters are JSON (a queued run is stored, so a
 * closure cannot travel with it). Resolve with `{ exitCode }` to set the exit code (0 otherwise);
 * throw to fail.
 */
export type ModuleHandler = (parameters: Readonly<Record<string, unknown>>, context: RunContext) => Promise<unknown>;

/** The exit code a module's result asks for: its `exitCode` when that is an integer, else 0. */
export function exitCodeOf(result: unknown): number {
  const code = (result as { exitCode?: unknown } | null | undefined)?.exitCode;
  return typeof code === "number" && Number.isInteger(code) ? code : 0;
}

/** The interface both the in-memory and the queue-backed managers implement. */
export interface TaskManager {
  readonly kind: "in-memory" | "queue";
  readonly registry: RunRegistry;
  registerModule(moduleId: string, handler: ModuleHandler): void;
  /**
   * Starts (or, for the queue, enqueues) a run of a registered module; resolves once accepted. The
   * run keeps `request.parameters` as given: leave it unchanged at least until this resolves (the
   * queue stores it as JSON when the run is written, which may be after this call returns).
   */
  startTask(request: RunRequest): Promise<Run>;
  /** Cancels a run: true if it was queued or running. */
  cancelTask(runId: string): Promise<boolean>;
  /** Resolves when every run this manager started has finished. */
  waitAll(): Promise<void>;
  getActiveTaskCount(): number;
  getActiveTaskIds(): string[];
  isTaskActive(runId: string): boolean;
  /** Maintenance mode: new runs are refused (retryable `PAUSED` error) or held; accepted runs go on. */
  pauseIntake(options?: PauseIntakeOptions): void;
  /** Accepts new runs again and lets held ones start. */
  resumeIntake(): void;
  intakeState(): IntakeState;
  close(): Promise<void>;
  /** Resolves once close() has finished: runs not finished by then will not finish through this manager. */
  readonly closed: Promise<void>;
}
