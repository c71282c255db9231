import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";

describe("the reliability workspace", () => {
  it("loads better-sqlite3 and fast-check", async () => {
    const fc = await import("fast-check");
    expect(typeof fc.assert).toBe("function");
    const db = new Database(":memory:");
    expect((db.prepare("SELECT 1 + 1 AS two").get() as { two: number }).two).toBe(2);
    db.close();
  });
});
