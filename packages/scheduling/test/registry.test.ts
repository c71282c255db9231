import { BUILT_IN_STRATEGIES, fifo, getStrategy, registerStrategy, strategyNames } from "@queue/scheduling";
import { describe, expect, it } from "vitest";

describe("strategy registry", () => {
  it("knows the four built-in strategies by name", () => {
    expect(BUILT_IN_STRATEGIES.map((strategy) => strategy.name)).toEqual(["fifo", "lifo", "priority", "weighted_random"]);
    expect(getStrategy("fifo")).toBe(fifo);
  });

  it("names the known strategies when asked for an unknown one", () => {
    expect(() => getStrategy("random")).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: expect.stringContaining("fifo, lifo, priority, weighted_random") }),
    );
  });

  it("registers a custom strategy once, with a valid name and order", () => {
    registerStrategy({ name: "by-type", description: "alphabetical by type", shape: { orderBy: "type, id" } });
    expect(strategyNames()).toContain("by-type");
    expect(getStrategy("by-type").shape.orderBy).toBe("type, id");
    expect(() => registerStrategy({ name: "by-type", description: "", shape: { orderBy: "id" } })).toThrow(/already registered/);
    expect(() => registerStrategy({ name: "Bad Name", description: "", shape: { orderBy: "id" } })).toThrow(/lower-case/);
    expect(() => registerStrategy({ name: "empty", description: "", shape: { orderBy: " " } })).toThrow(/orderBy/);
  });
});
