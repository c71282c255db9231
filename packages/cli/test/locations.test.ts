import { fileURLToPath } from "node:url";
import { runTypeScript } from "@queue/test-support";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));

describe("--db with a PostgreSQL URL", () => {
  it("says what to install when @queue/postgres is missing, in one line, without the password", async () => {
    const result = await runTypeScript(BIN, ["list", "--db", "postgres://app:s3cret@127.0.0.1:5432/test"], {
      env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^error: postgres:\/\/app:\*\*\*@127\.0\.0\.1:5432\/test is a PostgreSQL URL.*npm install @queue\/postgres/,
    );
    expect(result.stderr).not.toContain("s3cret");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("SQLite-only commands say so and name PostgreSQL's own tools", async () => {
    const result = await runTypeScript(BIN, ["backup", "/tmp/never.db", "--db", "postgres://127.0.0.1/test"], {
      env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/works on a SQLite file; --db names a PostgreSQL database/);
    expect(result.stderr).toMatch(/hint: .*pg_dump/);
  });
});
