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
 * A permanent version of a thrown value (see PermanentError) that says what it said: an Error
 * comes back as an object whose prototype is that error, so its name, message, stack and code read
 * through unchanged, while the error itself is left as it was (it may be thrown again elsewhere);
 * anything else is wrapped in a PermanentError.
 */
export function markPermanent(error: unknown): unknown {
  if (isPermanentError(error)) return error;
  if (error instanceof Error) return Object.create(error, { [PERMANENT_BRAND]: { value: true } }) as Error;
  return new PermanentError(toTaskError(error).message, { cause: error });
}

const STACK_LINES = 8;

/**
 * What is kept of a thrown value: name, message, code, and the first lines of the stack. It prints
 * like an error (`${error}` and String(error) give "Name: message [code]"); as JSON it is the
 * plain fields.
 */
export function toTaskError(error: unknown): TaskError {
  return printable(describeThrown(error));
}

function describeThrown(error: unknown): TaskError {
  // Never throws: it describes whatever a handler threw, including values String() fails on and
  // errors whose name, message or stack are not strings.
  try {
    if (error instanceof Error) {
      const { name, message, stack } = error;
      const code = (error as { code?: unknown }).code;
      return {
        name: typeof name === "string" ? name : "Error",
        message: typeof message === "string" ? message : String(message),
        ...(typeof stack === "string" ? { stack: stack.split("\n").slice(0, STACK_LINES).join("\n") } : {}),
        ...(typeof code === "string" ? { code } : {}),
      };
    }
    return { name: "NonError", message: typeof error === "string" ? error : `A non-Error value was thrown: ${String(error)}` };
  } catch {
    return { name: "NonError", message: "A value was thrown that cannot be described (converting it to a string failed)." };
  }
}

/** Gives a TaskError a toString (not enumerable, so JSON and equality checks see only its fields). */
function printable(error: TaskError): TaskError {
  return Object.defineProperty(error, "toString", {
    value: () => `${error.name}: ${error.message}${error.code === undefined ? "" : ` [${error.code}]`}`,
    enumerable: false,
  });
}
