// What a child process reports of an error it saw: enough to tell a typed QueueError (its code,
// whether it kept its cause) from a raw driver error that leaked through.
import { isQueueError } from "@queue/core";

export interface ReportedError {
  readonly code?: string;
  readonly message: string;
  /** True for a QueueError (of any copy of @queue/core). */
  readonly typed: boolean;
  /** The QueueError's details.reason or details.sqlState, when it has them. */
  readonly detail?: string;
  /** The cause's constructor name, when there is one. */
  readonly cause?: string;
}

export function describeError(error: unknown): ReportedError {
  const typed = isQueueError(error);
  const code = (error as { code?: unknown } | null)?.code;
  const details = typed ? error.details : undefined;
  const detail = details?.reason ?? details?.sqlState ?? details?.errno;
  const cause = (error as { cause?: unknown } | null)?.cause;
  return {
    ...(typeof code === "string" ? { code } : {}),
    message: error instanceof Error ? error.message : String(error),
    typed,
    ...(typeof detail === "string" ? { detail } : {}),
    ...(cause instanceof Error ? { cause: cause.constructor.name } : {}),
  };
}
