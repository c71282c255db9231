import { defineStrategy } from "../define-strategy.js";

/** Oldest first: by the time a task became runnable, then by enqueue order. */
export const fifo = defineStrategy({
  name: "fifo",
  description: "oldest runnable task first",
  order: {
    by: [
      { column: "run_after", direction: "asc" },
      { column: "id", direction: "asc" },
    ],
  },
});
