// The claim's order, compiled for PostgreSQL. A strategy hands the claim a description of its
// order; the store accepts only orders it can read as data (columns and directions, or a weighted
// draw by priority among a window of the oldest tasks), never SQL text it would pass through.
import { type ClaimShape, QueueError } from "@queue/core";

/** Columns a claim may order by. */
const ORDER_COLUMNS = new Set(["id", "run_after", "priority", "created_at"]);

export interface OrderKey {
  readonly column: string;
  readonly descending: boolean;
}

/** A claim order as data: keys, or a weighted draw (lower priority number more likely) among the first `size` tasks by `window`. */
export interface CompiledOrder {
  readonly keys: readonly OrderKey[];
  readonly weighted?: { readonly window: readonly OrderKey[]; readonly size: number };
}

/** The weighted draw of the built-in weighted_random strategy, as SQLite writes it. */
const WEIGHTED_BY_PRIORITY = "-ln((abs(random()) + 1.0) / 9223372036854775808.0) * (1 + priority - (SELECT min(priority) FROM candidates))";

const compiled = new WeakMap<object, CompiledOrder>();

/** Reads a claim order; refuses (INVALID_CONFIG) any this store cannot run as data. */
export function compileClaimOrder(order: ClaimShape): CompiledOrder {
  const cached = compiled.get(order);
  if (cached !== undefined) return cached;
  const result = readShape(order);
  compiled.set(order, result);
  return result;
}

function readShape(shape: ClaimShape): CompiledOrder {
  if (shape.window === undefined) return { keys: parseKeys(shape.orderBy, shape) };
  const size = shape.window.size;
  if (!Number.isInteger(size) || size < 1) throw unsupported(shape, "its window size is not a positive integer");
  if (normalize(shape.orderBy) !== normalize(WEIGHTED_BY_PRIORITY)) throw unsupported(shape, "its draw is not the weighted draw by priority");
  return { keys: [], weighted: { window: parseKeys(shape.window.orderBy, shape), size } };
}

function parseKeys(orderBy: string, shape: ClaimShape): OrderKey[] {
  const keys = orderBy.split(",").map((part) => {
    const match = /^\s*([a-z_]+)(?:\s+(ASC|DESC))?\s*$/i.exec(part);
    const column = match?.[1]?.toLowerCase();
    if (match === null || column === undefined || !ORDER_COLUMNS.has(column)) {
      throw unsupported(shape, `${JSON.stringify(part.trim())} is not one of the columns ${[...ORDER_COLUMNS].join(", ")} with ASC or DESC`);
    }
    return { column, descending: match[2]?.toUpperCase() === "DESC" };
  });
  if (keys.length === 0) throw unsupported(shape, "it names no column");
  return keys;
}

function normalize(text: string): string {
  return text.replace(/\s+/g, " ").trim().toLowerCase();
}

function unsupported(shape: ClaimShape, why: string): QueueError {
  return new QueueError(
    "INVALID_CONFIG",
    `The PostgreSQL store cannot claim in the order ${JSON.stringify(shape.orderBy)}: ${why}. Use one of the built-in strategies (fifo, lifo, priority, weighted_random).`,
    { details: { option: "strategy" } },
  );
}

/** The ORDER BY list of keys, over columns of `alias`. */
export function orderByList(keys: readonly OrderKey[], alias: string): string {
  return keys.map((key) => `${alias}.${key.column}${key.descending ? " DESC" : ""}`).join(", ");
}
