import { defineStrategy } from "../define-strategy.js";

/** Newest first: the most recently runnable task, latest enqueued first. */
export const lifo = defineStrategy({
  name: "lifo",
  description: "newest runnable task first",
  order: {
    by: [
      { column: "run_after", direction: "desc" },
      { column: "id", direction: "desc" },
    ],
  },
});
