import { QUEUED_BY_RUN_AFTER_INDEX } from "@queue/core";
import type { SchedulingStrategy } from "../strategy.js";

/** Newest first: the most recently runnable task, latest enqueued first. */
export const lifo: SchedulingStrategy = Object.freeze<SchedulingStrategy>({
  name: "lifo",
  description: "newest runnable task first",
  shape: { index: QUEUED_BY_RUN_AFTER_INDEX, orderBy: "run_after DESC, id DESC" },
  compare: (a, b) => b.runAfter.getTime() - a.runAfter.getTime() || b.id - a.id,
});
