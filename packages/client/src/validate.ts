import { describeValue, type NewTaskRow, QueueError, serializeJson } from "@queue/core";
import type { EnqueueOptions } from "./types.js";

export interface EnqueueLimits {
  readonly maxPayloadBytes: number;
  readonly defaultMaxAttempts: number;
}

export const DEFAULT_ENQUEUE_LIMITS: EnqueueLimits = Object.freeze({ maxPayloadBytes: 1024 * 1024, defaultMaxAttempts: 3 });

/** C0 and C1 control characters and DEL (Unicode general category Cc). */
const CONTROL_CHARACTERS = /\p{Cc}/u;
/**
 * A lone UTF-16 surrogate (in unicode mode a valid pair is one code point, not two surrogates).
 * SQLite stores text as UTF-8, where a lone surrogate has no encoding: such a name or key would be
 * stored as something else than it was given, so it is refused instead.
 */
const LONE_SURROGATE = /\p{Cs}/u;
/** The range of a JavaScript Date: a run-after time outside it could not be read back as a Date. */
const MAX_TIME = 8.64e15;
const MAX_PRIORITY = 2 ** 31 - 1;
const ALL_TYPES = "*";
const OPTION_NAMES = ["priority", "delayMs", "runAt", "maxAttempts", "idempotencyKey", "timeoutMs", "requires"];

function invalid(message: string): QueueError {
  return new QueueError("INVALID_ARGUMENT", message);
}

/** Checks a task type name: 1 to 255 characters, no control characters, not the reserved "*". */
export function validateTaskType(type: unknown): string {
  if (typeof type !== "string" || type.length === 0 || type.length > 255) {
    throw invalid(`A task type must be a string of 1 to 255 characters; got ${describeValue(type)}.`);
  }
  if (CONTROL_CHARACTERS.test(type))
    throw invalid(`The task type ${JSON.stringify(type)} contains control characters; use printable characters.`);
  if (LONE_SURROGATE.test(type))
    throw invalid(
      `The task type ${JSON.stringify(type)} contains a lone UTF-16 surrogate, which cannot be stored as text; use well-formed Unicode.`,
    );
  if (type === ALL_TYPES) throw invalid(`"${ALL_TYPES}" is reserved (it means every type); choose another task type name.`);
  return type;
}

function integerOption(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`Enqueue option ${name} must be an integer from ${min} to ${max}; got ${describeValue(value)}.`);
  }
  return value;
}

function runAfter(options: EnqueueOptions, now: number): number {
  if (options.runAt !== undefined && options.delayMs !== undefined) throw invalid("Give either runAt or delayMs, not both.");
  if (options.delayMs !== undefined) return now + integerOption("delayMs", options.delayMs, 0, Math.max(0, MAX_TIME - now));
  if (options.runAt === undefined) return now;
  const time = options.runAt instanceof Date ? options.runAt.getTime() : options.runAt;
  if (typeof time !== "number" || !Number.isFinite(time) || Math.abs(time) > MAX_TIME)
    throw invalid(
      `Enqueue option runAt must be a valid Date or epoch milliseconds (within ±${MAX_TIME}); got ${describeValue(options.runAt)}.`,
    );
  return Math.round(time);
}

function requiredCapabilities(requires: unknown): string | null {
  if (requires === undefined) return null;
  if (
    !Array.isArray(requires) ||
    !requires.every((item) => typeof item === "string" && item.length > 0 && item.length <= 255 && !LONE_SURROGATE.test(item))
  ) {
    throw invalid(`Enqueue option requires must be a list of capability names (non-empty strings); got ${describeValue(requires)}.`);
  }
  return requires.length === 0 ? null : JSON.stringify([...new Set(requires)].sort());
}

/** Validates and serialises one task before anything is written; every problem is a clear typed error. */
export function toNewTaskRow(
  type: unknown,
  payload: unknown,
  options: EnqueueOptions | undefined,
  limits: EnqueueLimits,
  now: number,
): NewTaskRow {
  const opts = options ?? {};
  if (typeof opts !== "object" || opts === null) throw invalid(`Enqueue options must be an object; got ${describeValue(options)}.`);
  for (const key of Object.keys(opts)) {
    if (!OPTION_NAMES.includes(key))
      throw invalid(`Unknown enqueue option ${JSON.stringify(key)}; known options: ${OPTION_NAMES.join(", ")}.`);
  }
  const idempotencyKey = opts.idempotencyKey ?? null;
  if (idempotencyKey !== null && (typeof idempotencyKey !== "string" || idempotencyKey.length === 0 || idempotencyKey.length > 512)) {
    throw invalid(`Enqueue option idempotencyKey must be a string of 1 to 512 characters; got ${describeValue(idempotencyKey)}.`);
  }
  if (idempotencyKey !== null && LONE_SURROGATE.test(idempotencyKey)) {
    // Two keys differing only in a lone surrogate would be stored alike (or not come back as given).
    throw invalid(
      "Enqueue option idempotencyKey contains a lone UTF-16 surrogate, which cannot be stored as text; use well-formed Unicode.",
    );
  }
  return {
    type: validateTaskType(type),
    payload: serializeJson(payload, { what: "payload", maxBytes: limits.maxPayloadBytes }),
    priority: integerOption("priority", opts.priority ?? 0, -MAX_PRIORITY, MAX_PRIORITY),
    runAfter: runAfter(opts, now),
    maxAttempts: integerOption("maxAttempts", opts.maxAttempts ?? limits.defaultMaxAttempts, 1, 1_000),
    idempotencyKey,
    timeoutMs: opts.timeoutMs === undefined ? null : integerOption("timeoutMs", opts.timeoutMs, 1, 2 ** 31 - 1),
    requiredCapabilities: requiredCapabilities(opts.requires),
    traceParent: null,
  };
}
