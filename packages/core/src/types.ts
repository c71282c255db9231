/**
 * Glossary
 *
 * - task: one unit of work: a `type` naming the handler that runs it, a JSON `payload`, and the
 *   bookkeeping that moves it through the lifecycle below. One row in the `tasks` table.
 * - queue: the set of tasks in one database file. Workers pick tasks from it in the order their
 *   scheduling strategy prescribes; there is no separate queue object to create.
 * - worker: a process (or part of one) that claims tasks, runs their handlers and records the
 *   outcome. Registered in the `workers` table while it runs.
 * - lease: the time-limited right of one worker to run one task, identified by a lease token.
 *   Only the holder of the current token may complete, fail or extend the task. A lease that
 *   expires (its worker died or stalled) makes the task claimable again.
 * - attempt: one execution of a task under one lease. `attempts` counts those started;
 *   `maxAttempts` bounds them.
 * - dead letter: the final state of a task that failed permanently or ran out of attempts. An
 *   operator can inspect it and send it back to the queue (retry).
 *
 * Lifecycle:
 *
 *   queued --claim--> leased --success--> completed
 *     ^                 |---failure, attempts left---> queued (runAfter = now + backoff)
 *     |                 |---failure, none left / permanent---> dead_letter
 *     |                 `---lease expired---> claimable again
 *     `---retry (operator)--- dead_letter
 *   queued | leased --cancel--> cancelled
 */

/** Every status a task can have. The database enforces this set with a CHECK constraint. */
export const TASK_STATUSES = ["queued", "leased", "completed", "dead_letter", "cancelled"] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** Statuses a task never leaves on its own (only an operator retry moves a dead letter). */
export const FINAL_TASK_STATUSES = ["completed", "dead_letter", "cancelled"] as const satisfies readonly TaskStatus[];
export type FinalTaskStatus = (typeof FINAL_TASK_STATUSES)[number];

export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What is kept of the error that failed an attempt. */
export interface TaskError {
  readonly name: string;
  readonly message: string;
  /** First lines of the stack, enough to find the throw site. */
  readonly stack?: string;
  /** Error code, when the thrown value had one. */
  readonly code?: string;
}

export interface Task<Payload = unknown, Result = unknown> {
  readonly id: number;
  readonly type: string;
  /** Lower runs first under the `priority` strategy. */
  readonly priority: number;
  readonly payload: Payload;
  readonly status: TaskStatus;
  /** Attempts started so far (a claim starts one). */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The task is not claimed before this time. */
  readonly runAfter: Date;
  /** While leased: when the lease expires unless extended. */
  readonly leaseUntil: Date | null;
  /** While leased: the id of the worker holding the lease. */
  readonly lockedBy: string | null;
  readonly idempotencyKey: string | null;
  /** Per-attempt time limit, if any. */
  readonly timeoutMs: number | null;
  /** Capabilities a worker must have to claim this task. */
  readonly requiredCapabilities: readonly string[];
  /** A cancel was asked for while the task was leased; the running handler is being aborted. */
  readonly cancelRequested: boolean;
  readonly error: TaskError | null;
  readonly result: Result | null;
  readonly progress: number | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** When the latest attempt started. */
  readonly startedAt: Date | null;
  /** When the task reached a final status. */
  readonly finishedAt: Date | null;
  /** W3C traceparent of the span that enqueued the task (when OpenTelemetry is in use). */
  readonly traceParent: string | null;
}

export interface WorkerRecord {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly capabilities: readonly string[];
  readonly startedAt: Date;
  readonly heartbeatAt: Date;
}

export interface TaskLog {
  readonly id: number;
  readonly taskId: number;
  readonly at: Date;
  readonly level: LogLevel;
  readonly message: string;
  readonly details: unknown;
}
