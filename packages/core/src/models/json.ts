import { QueueError } from "../errors.js";

/** Decodes a JSON column; a value that is not JSON is reported with the table, column and row. */
export function parseJsonColumn(text: string | null, where: string): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new QueueError(
      "INVALID_DATA",
      `Stored JSON in ${where} could not be parsed; the row was written by something other than the queue.`,
      {
        cause,
      },
    );
  }
}

export function dateFromMillis(ms: number): Date;
export function dateFromMillis(ms: number | null): Date | null;
export function dateFromMillis(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

export function stringArrayFromColumn(text: string | null, where: string): readonly string[] {
  const value = parseJsonColumn(text, where);
  if (value === null) return Object.freeze([]);
  if (!Array.isArray(value) || !value.every((item) => typeof item === "string")) {
    throw new QueueError("INVALID_DATA", `Stored value in ${where} is not a JSON array of strings.`);
  }
  return Object.freeze(value);
}
