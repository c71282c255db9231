import { describeValue, QueueError } from "./errors.js";

/**
 * The order in which a claim takes runnable tasks, as data: each storage backend compiles it into
 * its own claim statement. An order never changes which tasks are claimable, only which of them go
 * first, so every order keeps the queue's guarantees.
 *
 * Tasks equal in every key of `by` are taken by `id` (enqueue order) in the direction of the last
 * key, unless `by` already names `id`: the order is total, and the same on every backend.
 */
export interface ClaimOrder {
  /** Sort keys, most significant first; each column at most once. */
  readonly by: readonly OrderKey[];
  /** Instead of taking tasks strictly in `by` order, draw among the first few of them. */
  readonly draw?: WeightedDraw;
}

/** The task columns an order may sort by. */
export const CLAIM_ORDER_COLUMNS = Object.freeze(["id", "priority", "run_after", "created_at", "attempts"] as const);
export type ClaimOrderColumn = (typeof CLAIM_ORDER_COLUMNS)[number];

export const ORDER_DIRECTIONS = Object.freeze(["asc", "desc"] as const);
export type OrderDirection = (typeof ORDER_DIRECTIONS)[number];

export interface OrderKey {
  readonly column: ClaimOrderColumn;
  readonly direction: OrderDirection;
}

/**
 * `weighted_by_priority`: the first `window` runnable tasks in `by` order are the candidates; they
 * are sampled without replacement with weight 1 / (1 + priority − the lowest priority among them),
 * so more urgent tasks are likelier to go first. Because the candidates come first in `by` order,
 * an order by age keeps every task in reach: a task only gets older while it waits.
 */
export interface WeightedDraw {
  readonly kind: "weighted_by_priority";
  /** How many candidates compete in each draw, 1 to {@link MAX_DRAW_WINDOW}. */
  readonly window: number;
}

export const DRAW_KINDS = Object.freeze(["weighted_by_priority"] as const);

/** The largest draw window: every claim reads the whole window. */
export const MAX_DRAW_WINDOW = 1_000;

function orderError(source: string, option: string, value: unknown, expected: string): QueueError {
  return new QueueError("INVALID_CONFIG", `${source}: ${option} is ${describeValue(value)}; expected ${expected}.`, {
    details: { option, expected },
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Refuses properties other than `allowed`, so a misspelt one is not silently ignored. */
function checkProperties(source: string, option: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  const unknown = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknown !== undefined) {
    throw new QueueError(
      "INVALID_CONFIG",
      `${source}: ${option} has an unknown property ${JSON.stringify(unknown)}; allowed: ${allowed.join(", ")}.`,
      { details: { option: `${option}.${unknown}`, expected: allowed } },
    );
  }
}

function oneOf(values: readonly string[]): string {
  return `one of ${values.map((value) => JSON.stringify(value)).join(", ")}`;
}

function validateKey(source: string, option: string, key: unknown): OrderKey {
  if (!isRecord(key)) throw orderError(source, option, key, `{ column, direction } with column ${oneOf(CLAIM_ORDER_COLUMNS)}`);
  checkProperties(source, option, key, ["column", "direction"]);
  if (!(CLAIM_ORDER_COLUMNS as readonly unknown[]).includes(key.column))
    throw orderError(source, `${option}.column`, key.column, oneOf(CLAIM_ORDER_COLUMNS));
  if (!(ORDER_DIRECTIONS as readonly unknown[]).includes(key.direction))
    throw orderError(source, `${option}.direction`, key.direction, oneOf(ORDER_DIRECTIONS));
  return Object.freeze({ column: key.column as ClaimOrderColumn, direction: key.direction as OrderDirection });
}

function validateDraw(source: string, draw: unknown): WeightedDraw {
  if (!isRecord(draw)) throw orderError(source, "order.draw", draw, `{ kind: "weighted_by_priority", window }`);
  checkProperties(source, "order.draw", draw, ["kind", "window"]);
  if (!(DRAW_KINDS as readonly unknown[]).includes(draw.kind)) throw orderError(source, "order.draw.kind", draw.kind, oneOf(DRAW_KINDS));
  const window = draw.window;
  if (typeof window !== "number" || !Number.isInteger(window) || window < 1 || window > MAX_DRAW_WINDOW)
    throw orderError(source, "order.draw.window", window, `an integer from 1 to ${MAX_DRAW_WINDOW}`);
  return Object.freeze({ kind: draw.kind as WeightedDraw["kind"], window });
}

/**
 * Checks a claim order given as data (from code or configuration) and returns a frozen copy. Throws
 * INVALID_CONFIG naming `source`, the offending property and what is allowed.
 */
export function validateClaimOrder(order: unknown, source = "Claim order"): ClaimOrder {
  const shape = `{ by: [{ column, direction }, ...], draw? }`;
  if (!isRecord(order)) throw orderError(source, "order", order, shape);
  checkProperties(source, "order", order, ["by", "draw"]);
  const by = order.by;
  if (!Array.isArray(by) || by.length === 0) {
    throw orderError(source, "order.by", by, `a non-empty list of { column, direction }, column ${oneOf(CLAIM_ORDER_COLUMNS)}`);
  }
  const keys = by.map((key, index) => validateKey(source, `order.by[${index}]`, key));
  const repeated = keys.find((key, index) => keys.findIndex((other) => other.column === key.column) !== index);
  if (repeated !== undefined) {
    throw orderError(source, "order.by", by, `each column at most once (${JSON.stringify(repeated.column)} is named twice)`);
  }
  const draw = order.draw === undefined ? undefined : validateDraw(source, order.draw);
  return Object.freeze({ by: Object.freeze(keys), ...(draw === undefined ? {} : { draw }) });
}

/** The keys an order sorts by in full: `by`, then `id` as the tie-break unless `by` names it. */
export function claimOrderKeys(order: ClaimOrder): readonly OrderKey[] {
  const last = order.by[order.by.length - 1];
  if (last === undefined || order.by.some((key) => key.column === "id")) return order.by;
  return [...order.by, { column: "id", direction: last.direction }];
}

/** A stable string naming the order, equal for equal orders: a cache key for compiled statements. */
export function claimOrderKey(order: ClaimOrder): string {
  const by = order.by.map((key) => `${key.column} ${key.direction}`).join(",");
  return order.draw === undefined ? by : `${by};${order.draw.kind} ${order.draw.window}`;
}
