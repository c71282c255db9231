import { describe, expect, it } from "vitest";
import {
  CROSS_PROCESS,
  latencyBackends,
  POSTGRES_CROSS_PROCESS,
  POSTGRES_SAME_PROCESS,
  percentile,
  SAME_PROCESS,
  wallClockMs,
} from "../src/latency.js";

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

describe("latencyBackends", () => {
  const figure = (variant: string, p50: number) => ({
    variant,
    tasks: 10,
    p50,
    p95: p50,
    p99: p50,
    max: p50,
    rss: { selfKiB: 1, children: 0, childMaxKiB: 0 },
  });

  it("gives p50 on PostgreSQL over p50 on SQLite, and why there is none when PostgreSQL did not run", () => {
    const [same, cross] = latencyBackends([
      figure(SAME_PROCESS, 0.5),
      figure(CROSS_PROCESS, 4),
      figure(POSTGRES_SAME_PROCESS, 2),
      { variant: POSTGRES_CROSS_PROCESS, notRun: "PostgreSQL not reachable at 127.0.0.1:5432" },
    ]);
    expect(same).toMatchObject({ sqliteMedian: 0.5, postgresMedian: 2, ratio: 4 });
    expect(cross).toMatchObject({ sqliteMedian: 4, postgresNotRun: "PostgreSQL not reachable at 127.0.0.1:5432" });
    expect(cross?.ratio).toBeUndefined();
  });
});
