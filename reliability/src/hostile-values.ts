// Hostile inputs for fuzzing: strings with lone surrogates, control characters, SQL and code
// fragments and prototype keys; JSON values built from them; and numbers JSON or SQLite cannot
// hold. Also the checks every hostile test ends with.
import fc from "fast-check";

/** Fragments that have broken parsers, SQL builders, shells and object merges before. */
export const NASTY_FRAGMENTS: readonly string[] = [
  "",
  "\u0000",
  "\u0007\u001b[31m",
  "\r\n",
  "\u0085\u2028\u2029",
  "\uFEFF",
  "\uD800",
  "\uDFFF",
  "\uDC00\uD800",
  "\uD83D\uDE00",
  "e\u0301",
  "Ω≈ç√∫",
  "'; DROP TABLE tasks; --",
  "' OR '1'='1",
  '" OR 1=1 --',
  "); DELETE FROM tasks WHERE (1=1",
  '"); process.exit(1); //',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection attempt, on purpose
  "${process.exit(1)}",
  "`rm -rf /`",
  "$(reboot)",
  "{{7*7}}",
  "%s%n%x",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "*",
  "\\",
  "../../etc/passwd",
  "null",
  "NaN",
  "-0",
];

/** Any UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit));

/** Strings mixing nasty fragments and arbitrary code units. */
export const hostileString: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.constantFrom(...NASTY_FRAGMENTS), codeUnit, fc.string({ maxLength: 8 })), { maxLength: 8 })
  .map((parts) => parts.join(""));

/** Object keys, with the prototype-pollution keys often. */
export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom("__proto__", "constructor", "prototype", "toString", "polluted", "") },
  { weight: 3, arbitrary: hostileString },
);

/** Finite numbers, including the edges (-0, the largest double, the smallest subnormal). */
export const finiteNumber: fc.Arbitrary<number> = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, -(2 ** 63)),
  fc.integer(),
);

/** A JSON-storable value whose object keys are own properties (even `__proto__`). */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    finiteNumber,
    hostileString,
    fc.array(tie("value"), { maxLength: 4 }),
    fc
      .uniqueArray(fc.tuple(hostileKey, tie("value")), { maxLength: 4, selector: ([key]) => key })
      .map((entries) => Object.fromEntries(entries)),
  ),
})).value;

/** What JSON gives back for a storable value: -0 becomes 0 (JSON has no negative zero). */
export function jsonNormal(value: unknown): unknown {
  if (typeof value === "number") return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(jsonNormal);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, jsonNormal(item)]));
  }
  return value;
}

/** Nested arrays `depth` deep, built without recursion. */
export function nestedArrays(depth: number): unknown {
  let value: unknown = [];
  for (let level = 1; level < depth; level++) value = [value];
  return value;
}

/** Values no JSON column can hold exactly; each must be refused. */
export const UNSTORABLE_VALUES: readonly [string, unknown][] = [
  ["NaN", Number.NaN],
  ["Infinity", Number.POSITIVE_INFINITY],
  ["-Infinity in an object", { n: Number.NEGATIVE_INFINITY }],
  ["NaN deep in an array", [1, [2, [Number.NaN]]]],
  ["a BigInt", 10n],
  ["a function", () => 1],
  ["a symbol", Symbol("s")],
  ["undefined", undefined],
  ["undefined in an array", [undefined]],
];

/** The own property names of Object.prototype, to prove nothing was added to it. */
export function prototypeSnapshot(): string[] {
  return Object.getOwnPropertyNames(Object.prototype).sort();
}

/** True when a fresh object has picked up a property from a polluted prototype. */
export function prototypeIsPolluted(): boolean {
  const probe: Record<string, unknown> = {};
  return "polluted" in probe || probe.isAdmin !== undefined || Object.getPrototypeOf(probe) !== Object.prototype;
}

/**
 * Where `actual` differs from the JSON value `expected` (own keys, array items, Object.is on
 * numbers after -0 became 0, plain prototypes), or undefined when they are the same. A checker of
 * its own because test matchers compare `constructor` properties as types, and a payload may have
 * an own property named `constructor`.
 */
export function jsonDifference(actual: unknown, expected: unknown, path = "$"): string | undefined {
  const want = typeof expected === "number" && Object.is(expected, -0) ? 0 : expected;
  if (typeof want !== "object" || want === null) {
    return Object.is(actual, want) ? undefined : `${path}: ${describe(actual)} instead of ${describe(want)}`;
  }
  if (typeof actual !== "object" || actual === null) return `${path}: ${describe(actual)} instead of an object or array`;
  if (Array.isArray(want) !== Array.isArray(actual)) return `${path}: array and object mixed up`;
  if (!Array.isArray(actual) && Object.getPrototypeOf(actual) !== Object.prototype) return `${path}: not a plain object`;
  const keys = Object.keys(want);
  const actualKeys = Object.keys(actual);
  if (keys.length !== actualKeys.length || keys.some((key) => !Object.hasOwn(actual, key))) {
    return `${path}: keys ${JSON.stringify(actualKeys)} instead of ${JSON.stringify(keys)}`;
  }
  for (const key of keys) {
    const difference = jsonDifference(
      (actual as Record<string, unknown>)[key],
      (want as Record<string, unknown>)[key],
      `${path}[${JSON.stringify(key)}]`,
    );
    if (difference !== undefined) return difference;
  }
  return undefined;
}

function describe(value: unknown): string {
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
