import type { SchedulingStrategy } from "../strategy.js";

/** Newest first: the most recently runnable task, latest enqueued first. */
export const lifo: SchedulingStrategy = Object.freeze<SchedulingStrategy>({
  name: "lifo",
  description: "newest runnable task first",
  shape: { orderBy: "run_after DESC, id DESC" },
  compare: (a, b) => b.runAfter.getTime() - a.runAfter.getTime() || b.id - a.id,
});
