import { describe, expect, it } from "vitest";
import { summarize } from "../src/stats.js";

describe("summarize", () => {
  it("takes the median of odd and even sample counts, with min and max", () => {
    expect(summarize([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5 });
    expect(summarize([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
  });

  it("refuses an empty sample list", () => {
    expect(() => summarize([])).toThrow("no samples");
  });
});
