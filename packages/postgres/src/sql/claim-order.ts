// The claim's order, compiled for PostgreSQL from core's declarative ClaimOrder: sort keys become
// an ORDER BY over known columns, and a weighted draw becomes a window of candidates sampled by
// priority. An order is data, checked by core's validateClaimOrder: no SQL text passes through.
import { type ClaimOrder, claimOrderKey, claimOrderKeys, type OrderKey, validateClaimOrder } from "@queue/core";

/** A compiled order: the full ORDER BY, and for a draw the size of its window. */
export interface CompiledOrder {
  /** A stable name for the order (statement cache key). */
  readonly key: string;
  readonly keys: readonly OrderKey[];
  readonly draw?: { readonly window: number };
}

const compiled = new WeakMap<ClaimOrder, CompiledOrder>();

/** Checks an order (INVALID_CONFIG for one that is not valid) and compiles it. */
export function compileClaimOrder(order: ClaimOrder): CompiledOrder {
  const cached = compiled.get(order);
  if (cached !== undefined) return cached;
  const checked = validateClaimOrder(order, "The PostgreSQL store's claim order");
  const result: CompiledOrder = {
    key: claimOrderKey(checked),
    keys: claimOrderKeys(checked),
    ...(checked.draw === undefined ? {} : { draw: { window: checked.draw.window } }),
  };
  compiled.set(order, result);
  return result;
}

/** The ORDER BY list of keys, over columns of `alias`; columns are core's fixed list, never user text. */
export function orderByList(keys: readonly OrderKey[], alias: string): string {
  return keys.map((key) => `${alias}.${key.column} ${key.direction === "desc" ? "DESC" : "ASC"}`).join(", ");
}
