import type { ClaimOrder } from "@queue/core";

/** Fields a strategy may use to put claimed tasks in execution order. */
export interface OrderableTask {
  readonly id: number;
  readonly priority: number;
  readonly runAfter: Date;
  readonly createdAt: Date;
  readonly attempts: number;
}

/**
 * A claim order. Its `order` is data that each storage backend compiles into the one claim
 * statement; it never changes which tasks are claimable, so every strategy keeps the queue's
 * guarantees. `compare` orders a claimed batch for execution (a claim returns its batch in no
 * order); without one, a batch runs in `order.by` order (a drawn order keeps the draw's).
 */
export interface SchedulingStrategy {
  readonly name: string;
  readonly description: string;
  readonly order: ClaimOrder;
  readonly compare?: (a: OrderableTask, b: OrderableTask) => number;
}
