// Finds SQL built from values in TypeScript source: template literals that hold SQL (or are handed
// straight to prepare/exec/pragma/statement) with `${...}` interpolations, and string concatenation
// into those calls or onto SQL text. A small lexer, not a parser: it knows strings, comments and
// nested template literals, which is all this needs.

/** SQL as this code base writes it: upper-case keywords. */
const SQL_TEXT =
  /\b(SELECT\b[\s\S]*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+|DELETE\s+FROM|CREATE\s+(TABLE|INDEX|UNIQUE|TRIGGER|VIEW)|DROP\s+(TABLE|INDEX)|ALTER\s+TABLE|PRAGMA\s|SAVEPOINT|RELEASE|ROLLBACK|WHERE\s|ORDER BY|INDEXED BY|VALUES\s*\(|RETURNING\s)/;
/** PRAGMAs given to better-sqlite3's pragma() without the keyword, with an argument. */
const PRAGMA_TEXT =
  /\b(integrity_check|quick_check|wal_checkpoint|incremental_vacuum|table_info|index_list|busy_timeout|journal_mode|synchronous|cache_size|mmap_size|user_version|foreign_keys|temp_store|wal_autocheckpoint|auto_vacuum)\b/;
/** Calls whose first argument is SQL. */
const SQL_CALL = /\.(prepare|exec|pragma|statement)\s*(<[^()]*>)?\(\s*$/;

export interface SqlFinding {
  readonly file: string;
  readonly line: number;
  /** The interpolated expression, or the concatenation found. */
  readonly expression: string;
  readonly kind: "interpolation" | "concatenation";
}

interface Literal {
  readonly kind: "string" | "template";
  readonly start: number;
  readonly end: number;
  /** The literal's text without interpolations (for templates, the static parts joined by a space). */
  readonly text: string;
  readonly interpolations: readonly { readonly expression: string; readonly start: number }[];
}

/** Lexes `source` into its string and template literals (nested templates included) and the code between. */
function literals(source: string): { literals: Literal[]; code: string } {
  const found: Literal[] = [];
  let code = "";
  let index = 0;

  const readString = (quote: string): number => {
    let position = index + 1;
    while (position < source.length && source[position] !== quote) {
      if (source[position] === "\\") position++;
      if (source[position] === "\n") break;
      position++;
    }
    return position + 1;
  };

  // Reads the template starting at `start` (a backtick); returns the index after it.
  const readTemplate = (start: number): number => {
    let position = start + 1;
    const parts: string[] = [];
    const interpolations: { expression: string; start: number }[] = [];
    let part = "";
    while (position < source.length && source[position] !== "`") {
      if (source[position] === "\\") {
        part += source.slice(position, position + 2);
        position += 2;
        continue;
      }
      if (source[position] === "$" && source[position + 1] === "{") {
        parts.push(part);
        part = "";
        const expressionStart = position + 2;
        position = skipExpression(expressionStart);
        interpolations.push({ expression: source.slice(expressionStart, position - 1).trim(), start: expressionStart });
        continue;
      }
      part += source[position];
      position++;
    }
    parts.push(part);
    found.push({ kind: "template", start, end: position + 1, text: parts.join(" "), interpolations });
    return position + 1;
  };

  // Skips a `${...}` expression from `start`; returns the index after its closing brace.
  const skipExpression = (start: number): number => {
    let depth = 1;
    let position = start;
    while (position < source.length) {
      const char = source[position];
      if (char === "`") {
        position = readTemplate(position);
        continue;
      }
      if (char === '"' || char === "'") {
        const saved = index;
        index = position;
        position = readString(char);
        index = saved;
        continue;
      }
      if (char === "{") depth++;
      if (char === "}" && --depth === 0) return position + 1;
      position++;
    }
    return position;
  };

  while (index < source.length) {
    const char = source[index] as string;
    const next = source[index + 1];
    if (char === "/" && next === "/") {
      const end = source.indexOf("\n", index);
      index = end === -1 ? source.length : end;
      continue;
    }
    if (char === "/" && next === "*") {
      const end = source.indexOf("*/", index + 2);
      index = end === -1 ? source.length : end + 2;
      continue;
    }
    if (char === '"' || char === "'") {
      const end = readString(char);
      found.push({ kind: "string", start: index, end, text: source.slice(index + 1, end - 1), interpolations: [] });
      code += `"S${found.length - 1}"`;
      index = end;
      continue;
    }
    if (char === "`") {
      const end = readTemplate(index);
      // readTemplate pushed nested templates first and this one last.
      code += `\`T${found.length - 1}\``;
      index = end;
      continue;
    }
    code += char;
    index++;
  }
  return { literals: found, code };
}

function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let position = 0; position < offset && position < source.length; position++) if (source[position] === "\n") line++;
  return line;
}

/** The first argument of the call whose `(` is at `open` in `code` (up to the matching `)` or a top-level comma). */
function firstArgument(code: string, open: number): string {
  let depth = 0;
  for (let position = open; position < code.length; position++) {
    const char = code[position];
    if (char === "(" || char === "[" || char === "{") depth++;
    if (char === ")" || char === "]" || char === "}") {
      depth--;
      if (depth === 0) return code.slice(open + 1, position);
    }
    if (char === "," && depth === 1) return code.slice(open + 1, position);
  }
  return code.slice(open + 1);
}

const LITERAL_TOKEN = /^"S\d+"$|^`T\d+`$/;

/** Every place in `source` where SQL is built from something other than literals. */
export function findSqlBuiltFromValues(file: string, source: string): SqlFinding[] {
  const { literals: found, code } = literals(source);
  const findings: SqlFinding[] = [];
  for (const literal of found) {
    if (literal.kind !== "template" || literal.interpolations.length === 0) continue;
    const precededByCall = SQL_CALL.test(source.slice(Math.max(0, literal.start - 60), literal.start));
    // The SQL may also sit in string literals inside an interpolation: `${quick ? "quick_check" : "integrity_check"}(${n})`.
    const text = `${literal.text} ${literal.interpolations.map((item) => item.expression).join(" ")}`;
    if (!precededByCall && !SQL_TEXT.test(text) && !PRAGMA_TEXT.test(text)) continue;
    for (const { expression, start } of literal.interpolations) {
      findings.push({ file, line: lineOf(source, start), expression, kind: "interpolation" });
    }
  }
  // Concatenation: an argument of an SQL call with `+`, or SQL text joined to a non-literal with `+`.
  const sqlLiteral = (token: string) => {
    const match = /^"S(\d+)"$|^`T(\d+)`$/.exec(token.trim());
    const literal = match === null ? undefined : found[Number(match[1] ?? match[2])];
    return literal !== undefined && SQL_TEXT.test(literal.text);
  };
  const offsetOf = (token: string) => {
    const match = /S(\d+)|T(\d+)/.exec(token);
    return match === null ? 0 : (found[Number(match[1] ?? match[2])]?.start ?? 0);
  };
  for (const call of code.matchAll(/\.(prepare|exec|pragma|statement)\s*(<[^()]*>)?\(/g)) {
    const argument = firstArgument(code, (call.index ?? 0) + call[0].length - 1);
    if (!argument.includes("+")) continue;
    const operands = argument.split("+").map((operand) => operand.trim());
    if (operands.every((operand) => LITERAL_TOKEN.test(operand))) continue;
    findings.push({ file, line: lineOf(source, offsetOf(argument)), expression: argument.trim(), kind: "concatenation" });
  }
  for (const join of code.matchAll(/("S\d+"|`T\d+`)\s*\+\s*([^"`\s][^;,)\n]*)|([\w.\])]+)\s*\+\s*("S\d+"|`T\d+`)/g)) {
    const [literal, other] = join[1] !== undefined ? [join[1], join[2] ?? ""] : [join[4] ?? "", join[3] ?? ""];
    if (!sqlLiteral(literal) || LITERAL_TOKEN.test(other.trim().split(/\s*\+\s*/)[0] ?? "")) continue;
    findings.push({ file, line: lineOf(source, offsetOf(literal)), expression: `${literal} + ${other.trim()}`, kind: "concatenation" });
  }
  return findings;
}

/** A place where code speaks to the database directly: SQL text, or a driver call. */
export interface StorageUse {
  readonly file: string;
  readonly line: number;
  readonly what: string;
}

/** Calls that always reach the database: better-sqlite3's and QueueDatabase's. */
const DRIVER_CALL = /\.(prepare|pragma|statement|rawStatement)\s*(<[^()]*>)?\(/g;
/** Calls that reach the database when given SQL (`exec` and `query` are also RegExp's and others'). */
const SQL_RUNNING_CALL = /\.(exec|query)\s*\(\s*$/;

/**
 * Every SQL literal (upper-case SQL as this code base writes it) and every driver call in
 * `source`: what must stay behind the storage port.
 */
export function findStorageUses(file: string, source: string): StorageUse[] {
  const { literals: found } = literals(source);
  const uses: StorageUse[] = [];
  for (const literal of found) {
    const before = source.slice(Math.max(0, literal.start - 20), literal.start);
    if (SQL_TEXT.test(literal.text) || SQL_RUNNING_CALL.test(before))
      uses.push({ file, line: lineOf(source, literal.start), what: `SQL: ${literal.text.trim().replace(/\s+/g, " ").slice(0, 60)}` });
  }
  const insideLiteral = (offset: number) => found.some((literal) => offset >= literal.start && offset < literal.end);
  for (const match of source.matchAll(DRIVER_CALL)) {
    if (insideLiteral(match.index ?? 0)) continue;
    uses.push({ file, line: lineOf(source, match.index ?? 0), what: `${match[1]}() call` });
  }
  return uses.sort((a, b) => a.line - b.line);
}
