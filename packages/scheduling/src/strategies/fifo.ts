import type { SchedulingStrategy } from "../strategy.js";

/** Oldest first: by the time a task became runnable, then by enqueue order. */
export const fifo: SchedulingStrategy = Object.freeze<SchedulingStrategy>({
  name: "fifo",
  description: "oldest runnable task first",
  shape: { orderBy: "run_after, id" },
  compare: (a, b) => a.runAfter.getTime() - b.runAfter.getTime() || a.id - b.id,
});
