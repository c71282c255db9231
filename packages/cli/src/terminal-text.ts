/**
 * Text that comes from tasks, handlers, workers or the command line is data, and data must never
 * drive the operator's terminal. Everything a terminal may act on is shown escaped: C0 controls
 * (ESC, BEL, carriage return, newline...), DEL, the C1 controls (U+0080-U+009F, which include the
 * 8-bit CSI U+009B), the line and paragraph separators, and the bidirectional controls that can
 * make a line display in another order than it is stored.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what it is for
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const SHORT_ESCAPES: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeCharacter(character: string): string {
  return SHORT_ESCAPES[character] ?? `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`;
}

/** One terminal line of `text`: every character a terminal could act on is shown escaped. */
export function printable(text: string): string {
  return text.replace(UNSAFE, escapeCharacter);
}

/** Like {@link printable}, but keeps the line breaks of a multi-line message. */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}

/**
 * A copy of `value` for rendering as text, with every string in it made {@link printableLines}
 * (renderers of one-line fields apply {@link printable} too). Dates and other objects that are
 * not plain are kept as they are.
 */
export function printableValue<T>(value: T): T {
  if (typeof value === "string") return printableLines(value) as T;
  if (Array.isArray(value)) return value.map(printableValue) as T;
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[printable(key)] = printableValue(item);
    return copy as T;
  }
  return value;
}

/**
 * JSON text with the characters JSON leaves raw but a terminal acts on (DEL, C1, separators,
 * bidirectional controls) written as \u escapes: the same JSON value, safe to print.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu, escapeCharacter);
}
