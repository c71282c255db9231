import { isQueueError } from "@queue/core";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { openStore as openFromUrl, PostgresStore } from "../src/index.js";
import { TEST_URL } from "./helpers.js";

describe("location", () => {
  it("never shows the password, and always names the schema", async () => {
    const store = new PostgresStore({ url: "postgresql://alice:s3cr%40t@db.example:6543/app?schema=jobs&sslmode=disable" });
    try {
      expect(store.location).toBe("postgresql://alice@db.example:6543/app?sslmode=disable&schema=jobs");
      expect(store.location).not.toMatch(/s3cr/);
      expect(store.schema).toBe("jobs");
      expect(store.backend).toBe("postgres");
    } finally {
      await store.close();
    }
    const defaulted = openFromUrl({ url: "postgres://bob:hunter2@localhost/test" });
    expect(defaulted.location).toBe("postgres://bob@localhost/test?schema=queue");
    await defaulted.close();
  });

  it("runs on a pool the application gives it, and leaves that pool open", async () => {
    const pool = new pg.Pool({ connectionString: TEST_URL.replace("postgres://postgres@", "postgres://postgres:pw@"), max: 2 });
    const store = new PostgresStore({ pool, schema: `pgtest_pool_${process.pid}` });
    try {
      expect(store.location).not.toMatch(/pw/);
      expect(await store.countTasksByStatus()).toMatchObject({ queued: 0 });
      await store.close();
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS "pgtest_pool_${process.pid}" CASCADE`);
      await pool.end();
    }
  });

  it("refuses a schema name that is not a plain identifier", () => {
    let error: unknown;
    try {
      new PostgresStore({ url: `${TEST_URL}?schema=${encodeURIComponent('x"; DROP TABLE y; --')}` });
    } catch (thrown) {
      error = thrown;
    }
    expect(isQueueError(error, "INVALID_CONFIG")).toBe(true);
  });
});
