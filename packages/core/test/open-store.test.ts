import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { isQueueError, isServerLocation, openQueueStore, redactLocation, resolveDatabasePath, SqliteStore } from "../src/index.js";

afterEach(removeTempDirs);

describe("a location picks the store", () => {
  it("a file path opens a SQLite store, creating the file", async () => {
    const path = tempDbPath();
    const store = openQueueStore({ location: path });
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.backend).toBe("sqlite");
    expect(store.location).toBe(path);
    await store.close();
  });

  it("a postgres URL without @queue/postgres installed is refused with what to install, never showing the password", () => {
    for (const location of ["postgres://app:s3cret@db.example:5432/jobs", "postgresql://app:s3cret@db.example/jobs?schema=queue"]) {
      expect(isServerLocation(location)).toBe(true);
      let error: unknown;
      try {
        openQueueStore({ location });
      } catch (thrown) {
        error = thrown;
      }
      expect(isQueueError(error, "INVALID_CONFIG")).toBe(true);
      expect((error as Error).message).toMatch(/is a PostgreSQL URL, and @queue\/postgres is not installed.*npm install @queue\/postgres/);
      expect((error as Error).message).not.toContain("s3cret");
    }
  });

  it("QUEUE_DB_PATH or --db may be a URL, kept as it is; passwords are redacted for messages", () => {
    const url = "postgres://app:s3cret@127.0.0.1/test?schema=demo";
    expect(resolveDatabasePath({ path: url })).toBe(url);
    expect(resolveDatabasePath({ env: { QUEUE_DB_PATH: url } })).toBe(url);
    expect(redactLocation(url)).toBe("postgres://app:***@127.0.0.1/test?schema=demo");
    expect(redactLocation("postgres://127.0.0.1/test")).toBe("postgres://127.0.0.1/test");
    expect(isServerLocation("./data/queue.db")).toBe(false);
  });
});
