import type { Task, TaskError, TaskStatus } from "@queue/core";

/** Where one attempt went, as the `recorded` event reports it. */
export interface RecordedOutcome {
  /** The task's status now: completed, dead_letter or cancelled, or queued (a retry, or released at shutdown). */
  readonly status: TaskStatus;
  /** When it was recorded (epoch milliseconds). */
  readonly at: number;
  /** What the handler returned, for a completed task. */
  readonly result?: unknown;
  /** What it threw, for a failed attempt (null for a release). */
  readonly error?: TaskError | null;
}

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
  /**
   * Every attempt whose outcome was recorded, in one light event: the task as it was claimed
   * (status leased) and where it went. Nothing is built for it unless it has a listener; the
   * events above give the task as it ended instead.
   */
  recorded: (task: Task, outcome: RecordedOutcome) => void;
  /** The worker no longer held the lease when it answered; its answer was discarded. */
  "lease-lost": (task: Task) => void;
  /** Leases of dead or stalled workers were recovered. */
  recovered: (tasks: readonly Task[]) => void;
  /** A problem in the worker's own loop (for example the database was busy for too long); it keeps running. */
  error: (error: unknown) => void;
  stopped: () => void;
}
