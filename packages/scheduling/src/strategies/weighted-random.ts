import { defineStrategy } from "../define-strategy.js";

/** How many of the oldest runnable tasks compete in each weighted draw. */
export const WEIGHTED_RANDOM_WINDOW = 64;

/**
 * A weighted draw among the oldest runnable tasks: a task's weight is 1 / (1 + its distance from
 * the most urgent priority in the window), so more urgent tasks are more likely to go first. The
 * draw samples without replacement in proportion to weight. Because candidates are the oldest
 * runnable tasks, a low-priority task only gets older while it waits and never leaves the window:
 * it cannot be starved.
 */
export const weightedRandom = defineStrategy({
  name: "weighted_random",
  description: "random, weighted toward lower priority numbers, among the oldest runnable tasks",
  order: {
    by: [
      { column: "run_after", direction: "asc" },
      { column: "id", direction: "asc" },
    ],
    draw: { kind: "weighted_by_priority", window: WEIGHTED_RANDOM_WINDOW },
  },
});
