import { QueueError } from "../errors.js";

/** Decodes a JSON column; `column` ("tasks.payload") and `id` name the row, in the error only. */
export function parseJsonColumn(text: string | null, column: string, id: number | string): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new QueueError(
      "INVALID_DATA",
      `Stored JSON in ${column} (id ${id}) could not be parsed; the row was written by something other than the queue.`,
      { cause },
    );
  }
}

export function dateFromMillis(ms: number): Date;
export function dateFromMillis(ms: number | null): Date | null;
export function dateFromMillis(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

const NO_STRINGS: readonly string[] = Object.freeze([]);

export function stringArrayFromColumn(text: string | null, column: string, id: number | string): readonly string[] {
  if (text === null) return NO_STRINGS;
  const value = parseJsonColumn(text, column, id);
  if (value === null) return NO_STRINGS;
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new QueueError("INVALID_DATA", `Stored value in ${column} (id ${id}) is not a JSON array of strings.`);
  }
  return Object.freeze(value);
}
