import {
  BUILT_IN_STRATEGIES,
  type ClaimOrder,
  type ClaimOrderColumn,
  defineStrategy,
  fifo,
  getStrategy,
  type OrderDirection,
  registerStrategy,
  strategyNames,
} from "@queue/scheduling";
import { describe, expect, it } from "vitest";

const key = (column: ClaimOrderColumn, direction: OrderDirection = "asc") => ({ column, direction });
const strategyOf = (name: string, order: ClaimOrder) => defineStrategy({ name, description: "", order });

const task = (id: number, fields: { priority?: number; runAfter?: number; createdAt?: number; attempts?: number } = {}) => ({
  id,
  priority: fields.priority ?? 0,
  runAfter: new Date(fields.runAfter ?? 0),
  createdAt: new Date(fields.createdAt ?? 0),
  attempts: fields.attempts ?? 0,
});

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
    registerStrategy({
      name: "by-attempts",
      description: "fewest attempts first",
      order: { by: [{ column: "attempts", direction: "asc" }] },
    });
    expect(strategyNames()).toContain("by-attempts");
    expect(getStrategy("by-attempts").order).toEqual({ by: [{ column: "attempts", direction: "asc" }] });
    expect(Object.isFrozen(getStrategy("by-attempts").order.by)).toBe(true);
    const order = { by: [{ column: "id", direction: "asc" }] } as const;
    expect(() => registerStrategy({ name: "by-attempts", description: "", order })).toThrow(/already registered/);
    expect(() => registerStrategy({ name: "Bad Name", description: "", order })).toThrow(/lower-case/);
  });

  it("refuses a custom strategy whose order is not valid, saying what was wrong and what is allowed", () => {
    const register = (order: unknown) => () => registerStrategy({ name: "broken", description: "", order } as never);
    expect(register(undefined)).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.stringMatching(/^Strategy broken: order is undefined; expected \{ by:/),
      }),
    );
    expect(register({ by: [{ column: "type", direction: "asc" }] })).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: 'Strategy broken: order.by[0].column is "type"; expected one of "id", "priority", "run_after", "created_at", "attempts".',
      }),
    );
    expect(register({ orderBy: "type, id" })).toThrow(/order has an unknown property "orderBy"; allowed: by, draw/);
    expect(strategyNames()).not.toContain("broken");
  });

  it("gives a strategy without compare one from its order, and leaves a drawn order's batch as drawn", () => {
    const newest = strategyOf("newest-created", { by: [key("created_at", "desc")] });
    const tasks = [task(1, { createdAt: 5 }), task(2, { createdAt: 9 }), task(3, { createdAt: 5 }), task(4, { createdAt: 1 })];
    // Ties (1 and 3) go by id in the last key's direction.
    expect([...tasks].sort(newest.compare).map((t) => t.id)).toEqual([2, 3, 1, 4]);
    const urgentThenRetried = strategyOf("urgent-then-retried", { by: [key("priority"), key("attempts", "desc"), key("run_after")] });
    const mixed = [
      task(1, { priority: 1, attempts: 0 }),
      task(2, { priority: 0, attempts: 0, runAfter: 2 }),
      task(3, { priority: 0, attempts: 2 }),
      task(4, { priority: 0, attempts: 0, runAfter: 1 }),
    ];
    expect([...mixed].sort(urgentThenRetried.compare).map((t) => t.id)).toEqual([3, 4, 2, 1]);
    expect(strategyOf("drawn", { by: [key("run_after")], draw: { kind: "weighted_by_priority", window: 8 } }).compare).toBeUndefined();
    const own = (a: { id: number }, b: { id: number }) => b.id - a.id;
    expect(defineStrategy({ name: "own", description: "", order: { by: [key("id")] }, compare: own }).compare).toBe(own);
  });

  it("gives back a strategy it already checked unchanged, so the built-ins keep their identity", () => {
    for (const strategy of BUILT_IN_STRATEGIES) expect(defineStrategy(strategy)).toBe(strategy);
    expect(Object.isFrozen(fifo)).toBe(true);
  });
});
