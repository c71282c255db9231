import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compare, NotRun, notRunReason, type Variant } from "../src/measure.js";
import { asPeer } from "../src/peers/as-peer.js";

const directory = mkdtempSync(join(tmpdir(), "bench-measure-test-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe("compare", () => {
  it("records a variant that throws NotRun with its reason and zero figures, and does not run it again", async () => {
    let notRunCalls = 0;
    const comparisons = await compare(
      directory,
      "not-run",
      "reference",
      {
        reference: () => 100,
        twice: () => 200,
        absent: () => {
          notRunCalls += 1;
          throw new NotRun("Redis not reachable on 127.0.0.1:6379");
        },
      },
      3,
    );
    expect(notRunCalls).toBe(1);
    expect(comparisons).toEqual([
      { variant: "reference", opsPerSecond: { median: 100, min: 100, max: 100 }, ratio: 1 },
      { variant: "twice", opsPerSecond: { median: 200, min: 200, max: 200 }, ratio: 2 },
      {
        variant: "absent",
        opsPerSecond: { median: 0, min: 0, max: 0 },
        ratio: 0,
        notRun: "Redis not reachable on 127.0.0.1:6379",
      },
    ]);
  });

  it("recognises a NotRun that came back from a child process as the text of its stack", async () => {
    const comparisons = await compare(
      directory,
      "not-run-text",
      "reference",
      {
        reference: () => 10,
        child: () => {
          throw new Error(new NotRun("no bulk API").stack);
        },
      },
      1,
    );
    expect(comparisons[1]).toMatchObject({ variant: "child", ratio: 0, notRun: "no bulk API" });
  });

  it("still ends the comparison on any other error", async () => {
    const failing: Variant = () => {
      throw new Error("disk full");
    };
    await expect(compare(directory, "failing", "reference", { reference: () => 1, failing }, 1)).rejects.toThrow("disk full");
  });

  it("gives every ratio as 0 when the reference itself did not run", async () => {
    const comparisons = await compare(
      directory,
      "no-reference",
      "reference",
      {
        reference: () => {
          throw new NotRun("not here");
        },
        other: () => 5,
      },
      1,
    );
    expect(comparisons.map((comparison) => comparison.ratio)).toEqual([0, 0]);
    expect(comparisons[1]?.opsPerSecond.median).toBe(5);
  });
});

describe("notRunReason", () => {
  it("reads NotRun, its text, and nothing else", () => {
    expect(notRunReason(new NotRun("a reason"))).toBe("a reason");
    expect(notRunReason(new Error(`Error: ${new NotRun("across processes").stack}`))).toBe("across processes");
    expect(notRunReason(new Error("not run: looks alike but is not one"))).toBeUndefined();
    expect(notRunReason("NotRun: not run: a string")).toBeUndefined();
  });
});

describe("asPeer", () => {
  it("reports a peer's failure as not run, keeping its message, and passes NotRun through", async () => {
    const failed = asPeer(() => {
      throw new Error("connection reset");
    });
    await expect(failed("unused.db")).rejects.toMatchObject({ name: "NotRun", reason: "failed: connection reset" });
    const skipped = asPeer(() => {
      throw new NotRun("no bulk API");
    });
    await expect(skipped("unused.db")).rejects.toMatchObject({ reason: "no bulk API" });
    await expect(asPeer(() => 42)("unused.db")).resolves.toBe(42);
  });
});
