import { openQueueDatabase } from "@queue/core";
import { runTypeScript } from "@queue/test-support";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { fixture, tempDbPath } from "./helpers.js";

describe("transactions across processes", () => {
  it("N processes incrementing one counter lose no update and surface no busy error", async () => {
    const path = tempDbPath();
    openQueueDatabase({ path }).close();
    const processes = 6;
    const incrementsEach = 300;
    const results = await Promise.all(
      Array.from({ length: processes }, () => runTypeScript(fixture("increment.ts"), [path, String(incrementsEach)])),
    );
    for (const result of results) {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ errors: 0 });
    }
    const connection = new Database(path, { readonly: true });
    expect(connection.prepare("SELECT value FROM counter WHERE id = 1").get()).toEqual({ value: processes * incrementsEach });
    expect(connection.pragma("integrity_check", { simple: true })).toBe("ok");
    connection.close();
  });
});
