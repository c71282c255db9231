import { QueueError } from "./errors.js";

export interface SerializeJsonOptions {
  /** What the value is, for messages ("payload", "result"). */
  readonly what: string;
  /** Largest allowed size of the JSON text in bytes. */
  readonly maxBytes: number;
}

/**
 * Serialises a value that must come back exactly as it went in: plain objects, arrays, strings,
 * finite numbers, booleans and null (objects with `toJSON`, such as Date, are stored as what
 * `toJSON` returns). Everything JSON would silently change or drop is refused with INVALID_PAYLOAD
 * before anything is written: functions, symbols, BigInt, NaN and Infinity, `undefined` at the top
 * level or in an array, and cycles. Object properties that are `undefined` are omitted, as in JSON.
 */
export function serializeJson(value: unknown, options: SerializeJsonOptions): string {
  const { what } = options;
  let text: string | undefined;
  try {
    text = JSON.stringify(value, checkStorable);
  } catch (error) {
    if (error instanceof Unstorable) throw unstorable(what, error.key, error.item, error.inArray);
    if (error instanceof RangeError)
      throw invalid(`${what} is nested too deeply to serialise (thousands of levels); flatten it, or store it elsewhere`, error);
    throw invalid(`${what} cannot be serialised to JSON: ${(error as Error).message}`, error);
  }
  if (text === undefined) throw invalid(`${what} is undefined; pass null or a JSON value`);
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes > options.maxBytes) {
    throw new QueueError(
      "INVALID_PAYLOAD",
      `The ${what} is ${bytes} bytes of JSON, over the limit of ${options.maxBytes}; store large data elsewhere and pass a reference, or raise the limit.`,
      {
        details: { bytes, maxBytes: options.maxBytes },
      },
    );
  }
  return text;
}

/** Thrown by the replacer, turned into a QueueError (with the caller's wording) outside it. */
class Unstorable {
  constructor(
    readonly key: string,
    readonly item: unknown,
    readonly inArray: boolean,
  ) {}
}

/** JSON.stringify's replacer: it runs for every value, so it only compares types. */
function checkStorable(this: unknown, key: string, item: unknown): unknown {
  const type = typeof item;
  if (type === "object" || type === "string" || type === "boolean") return item;
  if (type === "number" ? Number.isFinite(item) : type === "undefined" && !Array.isArray(this)) return item;
  throw new Unstorable(key, item, Array.isArray(this));
}

function unstorable(what: string, key: string, item: unknown, inArray: boolean): QueueError {
  const where = key === "" ? what : `${what} key ${JSON.stringify(key)}`;
  switch (typeof item) {
    case "bigint":
      return invalid(`${where} is a BigInt; convert it to a string or number first`);
    case "number":
      return invalid(`${where} is ${item}, which JSON cannot store; use null or a string`);
    case "undefined":
      return invalid(`${where} is undefined${inArray ? " inside an array" : ""}; use null`);
    default:
      return invalid(`${where} is a ${typeof item}, which JSON cannot store`);
  }
}

function invalid(message: string, cause?: unknown): QueueError {
  return new QueueError("INVALID_PAYLOAD", `Invalid ${message}.`, cause === undefined ? {} : { cause });
}
