import { describe, expect, it } from "vitest";
import { percentile, wallClockMs } from "../src/latency.js";

describe("percentile", () => {
  it("takes the nearest rank of sorted samples", () => {
    const samples = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(percentile(samples, 50)).toBe(50);
    expect(percentile(samples, 95)).toBe(95);
    expect(percentile(samples, 99)).toBe(99);
    expect(percentile(samples, 100)).toBe(100);
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([1, 2, 3], 0)).toBe(1);
  });

  it("refuses an empty sample list", () => {
    expect(() => percentile([], 50)).toThrow("no samples");
  });
});

describe("wallClockMs", () => {
  it("reads the wall clock, so that two processes can compare their readings", () => {
    expect(Math.abs(wallClockMs() - Date.now())).toBeLessThan(1_000);
  });
});
