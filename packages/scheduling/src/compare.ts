import { type ClaimOrder, type ClaimOrderColumn, claimOrderKeys } from "@queue/core";
import type { OrderableTask } from "./strategy.js";

const FIELDS: Record<ClaimOrderColumn, (task: OrderableTask) => number> = {
  id: (task) => task.id,
  priority: (task) => task.priority,
  run_after: (task) => task.runAfter.getTime(),
  created_at: (task) => task.createdAt.getTime(),
  attempts: (task) => task.attempts,
};

/**
 * Puts tasks in the order a claim takes them (`order.by`, then id as the tie-break). Undefined for
 * an order with a draw: its order is the draw's, which a comparison cannot repeat.
 */
export function compareInClaimOrder(order: ClaimOrder): ((a: OrderableTask, b: OrderableTask) => number) | undefined {
  if (order.draw !== undefined) return undefined;
  const keys = claimOrderKeys(order).map((key) => ({ field: FIELDS[key.column], sign: key.direction === "asc" ? 1 : -1 }));
  return (a, b) => {
    for (const { field, sign } of keys) {
      const difference = field(a) - field(b);
      if (difference !== 0) return sign * difference;
    }
    return 0;
  };
}
