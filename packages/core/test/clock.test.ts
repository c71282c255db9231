import { openQueueDatabase, systemClock, TestClock } from "@queue/core";
import { describe, expect, it } from "vitest";

describe("clocks", () => {
  it("TestClock moves only when told", () => {
    const clock = new TestClock(1_000);
    expect(clock.now()).toBe(1_000);
    expect(clock.advance(250)).toBe(1_250);
    clock.set(new Date(5_000));
    expect(clock.now()).toBe(5_000);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
    expect(() => clock.set(new Date("nonsense"))).toThrow(RangeError);
  });

  it("the system clock follows Date.now", () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it("an injected clock stamps what the database records", () => {
    const clock = new TestClock(Date.UTC(2040, 0, 1));
    const db = openQueueDatabase({ path: ":memory:", clock });
    expect(db.clock).toBe(clock);
    const applied = db.statement<{ applied_at: number }>("SELECT applied_at FROM queue_migrations WHERE version = 1").get();
    expect(applied?.applied_at).toBe(Date.UTC(2040, 0, 1));
    db.close();
  });
});
