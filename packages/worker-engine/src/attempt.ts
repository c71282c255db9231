import type { Task } from "@queue/core";
import type { Lease } from "./leases.js";

/** Why an attempt's handler is told to stop. */
export type AbortReason = "cancel" | "timeout" | "lease-lost" | "shutdown";

/** One attempt at a task: its lease and what is known of its run so far. */
export interface Attempt {
  readonly task: Task;
  readonly lease: Lease;
  /** Created when the handler first reads ctx.signal: most handlers never do. */
  controller?: AbortController;
  reason?: AbortReason;
  abortError?: Error;
  /** Called on abort: starts the grace period (once the handler is running and has not settled). */
  wakeAbort?: () => void;
  /** The last value the handler reported through ctx.progress(). */
  progress?: number;
  /** Its outcome is decided; the lease is no longer renewed through this entry. */
  settled?: boolean;
  /** The outcome is decided (a handler ignoring its abort may run on after that). */
  decided?: boolean;
  /** Resolves once decided; made only when someone waits (shutdown). */
  whenDecided?: Promise<void>;
  onDecided?: () => void;
  /** performance.now() when it was started (claimed-ahead tasks have none until then). */
  readonly startedAt?: number;
}

/** The error a handler's AbortSignal carries for `reason`. */
export function abortError(attempt: Attempt, reason: AbortReason, workerId: string): Error {
  const { task } = attempt;
  switch (reason) {
    case "cancel":
      return Object.assign(new Error(`Task ${task.id} was cancelled.`), { name: "CancelledError" });
    case "timeout":
      return Object.assign(new Error(`Task ${task.id} ran longer than its timeout of ${task.timeoutMs} ms.`), { name: "TimeoutError" });
    case "lease-lost":
      return Object.assign(new Error(`Worker ${workerId} lost the lease of task ${task.id}.`), { name: "LeaseLostError" });
    default:
      return Object.assign(new Error(`Worker ${workerId} is shutting down.`), { name: "ShutdownError" });
  }
}
