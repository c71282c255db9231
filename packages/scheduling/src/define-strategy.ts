import { QueueError, validateClaimOrder } from "@queue/core";
import { compareInClaimOrder } from "./compare.js";
import type { SchedulingStrategy } from "./strategy.js";

/** Strategies that came out of `defineStrategy`: checked, complete and frozen. */
const defined = new WeakSet<SchedulingStrategy>();

/**
 * Checks a strategy (its name, and its order with core's `validateClaimOrder`) and returns it
 * frozen, with a `compare` from its order when it gives none. A strategy it returned comes back
 * unchanged. `registerStrategy` and a Worker given a strategy object both pass it through here,
 * so a bad order fails at once with INVALID_CONFIG, not at the first claim.
 */
export function defineStrategy(strategy: SchedulingStrategy): SchedulingStrategy {
  if (defined.has(strategy)) return strategy;
  if (typeof strategy?.name !== "string" || !/^[a-z][a-z0-9_-]{0,63}$/.test(strategy.name)) {
    throw new QueueError(
      "INVALID_CONFIG",
      `A strategy name must be lower-case letters, digits, _ or - (got ${JSON.stringify(strategy?.name)}).`,
    );
  }
  const order = validateClaimOrder(strategy.order, `Strategy ${strategy.name}`);
  const compare = strategy.compare ?? compareInClaimOrder(order);
  const result: SchedulingStrategy = Object.freeze({ ...strategy, order, ...(compare === undefined ? {} : { compare }) });
  defined.add(result);
  return result;
}
