import type { ClaimShape } from "@queue/core";

/** Fields a strategy may use to put claimed tasks in execution order. */
export interface OrderableTask {
  readonly id: number;
  readonly priority: number;
  readonly runAfter: Date;
}

/**
 * A claim order. It contributes an ORDER BY (and optionally a bounded candidate window) to the one
 * claim statement; it never changes which tasks are claimable, so every strategy keeps the queue's
 * guarantees. `compare` orders a claimed batch for execution (SQLite's RETURNING has no order).
 */
export interface SchedulingStrategy {
  readonly name: string;
  readonly description: string;
  readonly shape: ClaimShape;
  readonly compare?: (a: OrderableTask, b: OrderableTask) => number;
}
