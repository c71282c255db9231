import { QUEUED_BY_RUN_AFTER_INDEX } from "@queue/core";
import type { SchedulingStrategy } from "../strategy.js";

/** Oldest first: by the time a task became runnable, then by enqueue order. */
export const fifo: SchedulingStrategy = Object.freeze<SchedulingStrategy>({
  name: "fifo",
  description: "oldest runnable task first",
  shape: { index: QUEUED_BY_RUN_AFTER_INDEX, orderBy: "run_after, id" },
  compare: (a, b) => a.runAfter.getTime() - b.runAfter.getTime() || a.id - b.id,
});
