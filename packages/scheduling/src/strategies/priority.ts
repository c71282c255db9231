import { defineStrategy } from "../define-strategy.js";

/** Lowest priority number first; oldest first within a priority. */
export const priority = defineStrategy({
  name: "priority",
  description: "lowest priority number first, then oldest",
  order: {
    by: [
      { column: "priority", direction: "asc" },
      { column: "run_after", direction: "asc" },
      { column: "id", direction: "asc" },
    ],
  },
});
