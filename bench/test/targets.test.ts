import { describe, expect, it } from "vitest";
import { backendRatios, type Comparison, comparisonMedians, evaluateTargets, onPostgres, twins } from "../src/measure.js";

const ran = (variant: string, median: number): Comparison => ({ variant, opsPerSecond: { median, min: median, max: median }, ratio: 0 });
const notRun = (variant: string, reason: string): Comparison => ({
  variant,
  opsPerSecond: { median: 0, min: 0, max: 0 },
  ratio: 0,
  notRun: reason,
});

const comparisons = [
  ran("raw", 1_000),
  ran("queue", 600),
  ran("peer", 100),
  notRun("absent peer", "Redis not reachable on 127.0.0.1:6379"),
];

describe("evaluateTargets", () => {
  it("takes the ratio to the reference, or to the variant a target names", () => {
    const [toReference, toPeer, notMet] = evaluateTargets(
      [
        { variant: "queue", atLeast: 0.5 },
        { variant: "queue", atLeast: 5, of: "peer" },
        { variant: "queue", atLeast: 10, of: "peer" },
      ],
      "raw",
      comparisons,
    );
    expect(toReference).toMatchObject({ baseline: "raw", ratio: 0.6, met: true });
    expect(toPeer).toMatchObject({ baseline: "peer", ratio: 6, met: true, of: "peer" });
    expect(notMet).toMatchObject({ ratio: 6, met: false });
    expect(notMet?.notEvaluated).toBeUndefined();
  });

  it("does not judge a target against a variant that did not run or is not in the run", () => {
    const [absent, missing] = evaluateTargets(
      [
        { variant: "queue", atLeast: 1, of: "absent peer" },
        { variant: "queue", atLeast: 1, of: "peer left out by --peers" },
      ],
      "raw",
      comparisons,
    );
    expect(absent).toMatchObject({ met: false, ratio: 0, notEvaluated: "absent peer: not run: Redis not reachable on 127.0.0.1:6379" });
    expect(missing).toMatchObject({ met: false, ratio: 0, notEvaluated: "peer left out by --peers is not in this run" });
  });

  it("takes the ratio to the best of several variants, and judges it only when every one of them ran", () => {
    const [best, oneAbsent, oneMissing] = evaluateTargets(
      [
        { variant: "queue", atLeast: 3, ofBest: ["peer", "raw"] },
        { variant: "queue", atLeast: 3, ofBest: ["peer", "absent peer"] },
        { variant: "queue", atLeast: 3, ofBest: ["peer", "peer left out by --peers"] },
      ],
      "raw",
      comparisons,
    );
    expect(best).toMatchObject({ baseline: "raw", ratio: 0.6, met: false });
    expect(best?.notEvaluated).toBeUndefined();
    expect(oneAbsent).toMatchObject({ met: false, ratio: 0, notEvaluated: "absent peer: not run: Redis not reachable on 127.0.0.1:6379" });
    expect(oneMissing).toMatchObject({ met: false, ratio: 0, notEvaluated: "peer left out by --peers is not in this run" });
    const [met] = evaluateTargets([{ variant: "queue", atLeast: 3, ofBest: ["peer"] }], "raw", comparisons);
    expect(met).toMatchObject({ baseline: "peer", ratio: 6, met: true });
  });
});

describe("backendRatios", () => {
  const medians = comparisonMedians([
    ran("enqueue", 10_000),
    ran(onPostgres("enqueue"), 2_500),
    ran("process", 20_000),
    notRun(onPostgres("process"), "PostgreSQL not reachable at 127.0.0.1:5432"),
  ]);

  it("gives PostgreSQL's median over SQLite's for each operation on both backends", () => {
    expect(backendRatios(twins("enqueue"), medians)).toEqual([
      { sqlite: "enqueue", postgres: "PostgreSQL backend: enqueue", sqliteMedian: 10_000, postgresMedian: 2_500, ratio: 0.25 },
    ]);
  });

  it("says why a side has no figure, and gives no ratio then", () => {
    expect(backendRatios(twins("process", "batches"), medians)).toEqual([
      {
        sqlite: "process",
        postgres: "PostgreSQL backend: process",
        sqliteMedian: 20_000,
        postgresNotRun: "PostgreSQL not reachable at 127.0.0.1:5432",
      },
      { sqlite: "batches", postgres: "PostgreSQL backend: batches", sqliteNotRun: "not in this run", postgresNotRun: "not in this run" },
    ]);
  });
});
