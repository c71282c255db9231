import { describe, expect, it } from "vitest";
import { isLooping, type LoopMode, transition } from "../src/loop-modes.js";

const MODES: readonly LoopMode[] = ["starting", "claiming", "waiting", "polling", "backing-off", "draining", "stopped"];

describe("the claim loop's modes", () => {
  it("starts claiming once started, and every waiting mode goes back to claiming", () => {
    expect(transition("starting", "claiming")).toBe("claiming");
    for (const mode of ["waiting", "polling", "backing-off"] as const) expect(transition(mode, "claiming")).toBe("claiming");
  });

  it("leaves claiming for any mode that waits, or drains", () => {
    for (const mode of ["claiming", "waiting", "polling", "backing-off", "draining"] as const)
      expect(transition("claiming", mode)).toBe(mode);
  });

  it("drains from any mode before it has stopped, and stops only from draining or before starting", () => {
    for (const mode of MODES.filter((each) => each !== "stopped")) expect(transition(mode, "draining")).toBe("draining");
    expect(transition("draining", "stopped")).toBe("stopped");
    expect(transition("starting", "stopped")).toBe("stopped");
    for (const mode of ["claiming", "waiting", "polling", "backing-off"] as const) expect(() => transition(mode, "stopped")).toThrow();
  });

  it("keeps draining whatever the step under way asks for next: a stop wins", () => {
    for (const mode of MODES) expect(transition("draining", mode)).toBe(mode === "stopped" ? "stopped" : "draining");
    for (const mode of MODES) expect(transition("stopped", mode)).toBe("stopped");
  });

  it("refuses moves no step makes", () => {
    expect(() => transition("waiting", "polling")).toThrow(/from waiting to polling/);
    expect(() => transition("polling", "backing-off")).toThrow();
    expect(() => transition("starting", "waiting")).toThrow();
  });

  it("loops only in the modes that claim or wait to claim", () => {
    expect(MODES.filter(isLooping)).toEqual(["claiming", "waiting", "polling", "backing-off"]);
  });
});
