import { UsageError } from "./errors.js";

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "500ms", "30s", "15m", "12h", "7d", "2w" (or a bare number of milliseconds) to milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (match === null) throw new UsageError(`${flag} expects a duration such as 30s, 15m, 12h or 7d; got ${JSON.stringify(text)}.`);
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? "ms"] ?? 1));
}

export function parseInteger(text: string, flag: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${flag} expects a whole number; got ${JSON.stringify(text)}.`);
  const value = Number(text);
  if (value < min || value > max) throw new UsageError(`${flag} must be from ${min} to ${max}; got ${value}.`);
  return value;
}

export function parseJsonArgument(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `${what} is not valid JSON (${jsonErrorWithoutText(error as Error, text)}).`,
      `quote it for the shell, e.g. '{"to":"ada@example.com"}'`,
    );
  }
}

/**
 * Where JSON.parse failed, without the excerpt of the input V8 puts in some of its messages
 * (`Unexpected token 'p', "password=h"... is not valid JSON`): a payload may hold secrets, and
 * error output ends up in terminals, CI logs and bug reports.
 */
function jsonErrorWithoutText(error: Error, text: string): string {
  const position = /at position (\d+)/.exec(error.message)?.[1];
  if (position !== undefined) return `at character ${Number(position) + 1} of ${text.length}`;
  if (/end of JSON input/i.test(error.message) || text.trim() === "") return "it ends too early";
  return `${text.length} characters`;
}

export function parseList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** A byte count for people: "12.3 MiB". */
export function mebibytes(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}
