import { QUEUED_BY_RUN_AFTER_INDEX } from "@queue/core";
import type { SchedulingStrategy } from "../strategy.js";

/** How many of the oldest runnable tasks compete in each weighted draw. */
export const WEIGHTED_RANDOM_WINDOW = 64;

/**
 * A weighted draw among the oldest runnable tasks: a task's weight is 1 / (1 + its distance from
 * the most urgent priority in the window), so more urgent tasks are more likely to go first. The
 * draw uses exponential keys (-ln(u) / weight, smallest first), which samples without replacement
 * in proportion to weight. Because candidates are the oldest runnable tasks, a low-priority task
 * only gets older while it waits and never leaves the window: it cannot be starved.
 */
export const weightedRandom: SchedulingStrategy = Object.freeze<SchedulingStrategy>({
  name: "weighted_random",
  description: "random, weighted toward lower priority numbers, among the oldest runnable tasks",
  shape: {
    index: QUEUED_BY_RUN_AFTER_INDEX,
    window: { orderBy: "run_after, id", size: WEIGHTED_RANDOM_WINDOW },
    orderBy: "-ln((abs(random()) + 1.0) / 9223372036854775808.0) * (1 + priority - (SELECT min(priority) FROM candidates))",
  },
});
