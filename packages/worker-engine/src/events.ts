import type { Task, TaskError } from "@queue/core";

/** Events a Worker emits. Listeners run synchronously after the change is committed. */
export interface WorkerEvents {
  claimed: (task: Task) => void;
  completed: (task: Task, result: unknown) => void;
  /** Every failed attempt; `retryAt` is null when the task will not run again. */
  failed: (task: Task, error: TaskError, retryAt: Date | null) => void;
  /** The task went back to the queue to be tried again at `task.runAfter`. */
  retried: (task: Task) => void;
  "dead-lettered": (task: Task, error: TaskError) => void;
  cancelled: (task: Task) => void;
  /** The worker no longer held the lease when it answered; its answer was discarded. */
  "lease-lost": (task: Task) => void;
  /** Leases of dead or stalled workers were recovered. */
  recovered: (tasks: readonly Task[]) => void;
  /** A problem in the worker's own loop (for example the database was busy for too long); it keeps running. */
  error: (error: unknown) => void;
  stopped: () => void;
}
