// Where an attempt goes, decided from how it ended: complete, retry (with backoff), dead-letter,
// release or cancel. Pure: the time and the random source of the backoff's jitter are arguments.
import { serializeJson, type TaskError } from "@queue/core";
import type { Attempt } from "./attempt.js";
import { type BackoffPolicy, backoffDelay } from "./backoff.js";
import { isPermanentError, toTaskError } from "./errors.js";
import type { Failure } from "./leases.js";

/** An attempt's decided outcome, to be recorded by the next tick. */
export type Outcome =
  | { readonly attempt: Attempt; readonly kind: "complete"; readonly result: string; readonly value: unknown }
  | { readonly attempt: Attempt; readonly kind: "fail"; readonly failure: Failure; readonly error: TaskError | null };

/** The worker settings the policy reads. */
export interface OutcomePolicy {
  readonly backoff: BackoffPolicy;
  readonly maxResultBytes: number;
}

/** The handler returned `value`: completed, or dead-lettered if the value cannot be stored as the result. */
export function succeeded(attempt: Attempt, value: unknown, policy: OutcomePolicy): Outcome {
  let result: string;
  try {
    result = value === undefined || value === null ? "null" : serializeJson(value, { what: "result", maxBytes: policy.maxResultBytes });
  } catch (error) {
    return deadLettered(attempt, toTaskError(error));
  }
  return { attempt, kind: "complete", result, value };
}

/** The handler threw `thrown`: retried after a backoff while attempts are left and the error is not permanent, else dead-lettered. */
export function failed(attempt: Attempt, thrown: unknown, now: number, policy: OutcomePolicy, random?: () => number): Outcome {
  const error = toTaskError(thrown);
  const { task } = attempt;
  if (isPermanentError(thrown) || task.attempts >= task.maxAttempts) return deadLettered(attempt, error);
  const runAfter = now + backoffDelay(task.attempts, policy.backoff, random);
  return { attempt, kind: "fail", failure: { outcome: "retry", error: JSON.stringify(error), runAfter }, error };
}

/**
 * The attempt was aborted (see `attempt.reason`) before its handler settled: a cancel is
 * cancelled, a timeout is a failure, a shutdown releases the task, and a lost lease has nothing
 * to record (undefined): the task belongs to someone else now.
 */
export function aborted(attempt: Attempt, thrown: unknown, now: number, policy: OutcomePolicy, random?: () => number): Outcome | undefined {
  switch (attempt.reason) {
    case "cancel":
      return cancelled(attempt, { name: "Cancelled", message: "The task was cancelled while running." });
    case "timeout":
      return failed(attempt, thrown, now, policy, random);
    case "shutdown":
      return released(attempt);
    default:
      return undefined;
  }
}

/** A task cancelled while it waited, claimed ahead, for a free slot. */
export function cancelledBeforeStart(attempt: Attempt): Outcome {
  return cancelled(attempt, { name: "Cancelled", message: "The task was cancelled before it started." });
}

/** Back to the queue untouched, its attempt not counted: claimed ahead and not run, or stopped by a shutdown. */
export function released(attempt: Attempt): Outcome {
  return { attempt, kind: "fail", failure: { outcome: "release", error: null }, error: null };
}

/** No handler on this worker for the task's type. */
export function unknownType(attempt: Attempt, workerId: string): Outcome {
  return deadLettered(attempt, {
    name: "UnknownTaskType",
    message: `No handler for task type ${JSON.stringify(attempt.task.type)} on worker ${workerId}. Register one, or leave this type to workers that handle it (the \`types\` option).`,
  });
}

/**
 * Deciding the outcome threw (it only formats what the handler returned or threw): the attempt is
 * dead-lettered with what went wrong, so its slot and lease are never held without an outcome.
 */
export function undecidable(attempt: Attempt, caught: unknown): Outcome {
  return deadLettered(attempt, {
    name: "OutcomeError",
    message: `The outcome of task ${attempt.task.id} could not be recorded: ${toTaskError(caught).message}`,
  });
}

function deadLettered(attempt: Attempt, error: TaskError): Outcome {
  return { attempt, kind: "fail", failure: { outcome: "dead_letter", error: JSON.stringify(error) }, error };
}

function cancelled(attempt: Attempt, error: TaskError): Outcome {
  return { attempt, kind: "fail", failure: { outcome: "cancelled", error: JSON.stringify(error) }, error };
}
