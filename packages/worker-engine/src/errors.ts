import type { TaskError } from "@queue/core";

const PERMANENT_BRAND = Symbol.for("@queue/worker-engine.PermanentError");

/**
 * Throw from a handler when retrying cannot help (bad input, a resource that is gone): the task
 * goes straight to dead_letter whatever attempts it has left.
 */
export class PermanentError extends Error {
  override readonly name: string = "PermanentError";
  readonly [PERMANENT_BRAND] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for a PermanentError from any copy of this package. */
export function isPermanentError(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[PERMANENT_BRAND] === true;
}

/**
 * Makes a thrown value permanent (see PermanentError) while keeping what it says: an Error is
 * branded in place, so its name, message and stack are recorded as they are; anything else is
 * wrapped in a PermanentError.
 */
export function markPermanent(error: unknown): unknown {
  if (isPermanentError(error)) return error;
  if (error instanceof Error && Object.isExtensible(error)) {
    Object.defineProperty(error, PERMANENT_BRAND, { value: true });
    return error;
  }
  return new PermanentError(toTaskError(error).message, { cause: error });
}

const STACK_LINES = 8;

/** What is kept of a thrown value: name, message, code, and the first lines of the stack. */
export function toTaskError(error: unknown): TaskError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack.split("\n").slice(0, STACK_LINES).join("\n") }),
      ...(typeof code === "string" ? { code } : {}),
    };
  }
  return { name: "NonError", message: typeof error === "string" ? error : `A non-Error value was thrown: ${String(error)}` };
}
