import type { LogLevel, Task } from "@queue/core";

/**
 * What a handler gets besides its payload. Its members are accessors, made when first read: pass
 * the context on as it is, or take members off it (`const { heartbeat, signal } = ctx`); a spread
 * (`{ ...ctx }`) copies none of them.
 */
export interface TaskContext<Payload = unknown> {
  /** The task as claimed (status leased, `attempts` counting this attempt). */
  readonly task: Task<Payload>;
  /** Fires when the task is cancelled, times out, loses its lease, or the worker shuts down. */
  readonly signal: AbortSignal;
  /** Extends the lease now (leases are also renewed automatically); rejects with LEASE_LOST if it is gone. */
  heartbeat(): Promise<void>;
  /** Records progress (any finite number, for example a fraction or a count of items done). */
  progress(value: number): Promise<void>;
  /** Appends a line to the task's log (task_logs). `details` must be JSON-serialisable. */
  log(level: LogLevel, message: string, details?: unknown): Promise<void>;
}

/** Runs one task; its return value (JSON-serialisable, or undefined) is stored as the result. */
export type TaskHandler<Payload = unknown, Result = unknown> = (
  payload: Payload,
  context: TaskContext<Payload>,
) => Promise<Result> | Result;

/**
 * Handlers by task type; with a type map, each handler's payload type is the producer's, and with
 * a results map (the client's second type argument) each handler must return its type's result.
 */
export type TaskHandlers<Types extends object = Record<string, unknown>, Results extends object = Record<never, never>> = {
  readonly [Type in keyof Types & string]?: TaskHandler<Types[Type], Type extends keyof Results ? Results[Type] : unknown>;
};
