import { QUEUED_BY_PRIORITY_INDEX } from "@queue/core";
import type { SchedulingStrategy } from "../strategy.js";

/** Lowest priority number first; oldest first within a priority. */
export const priority: SchedulingStrategy = Object.freeze<SchedulingStrategy>({
  name: "priority",
  description: "lowest priority number first, then oldest",
  shape: { index: QUEUED_BY_PRIORITY_INDEX, orderBy: "priority, run_after, id" },
  compare: (a, b) => a.priority - b.priority || a.runAfter.getTime() - b.runAfter.getTime() || a.id - b.id,
});
