import { fileURLToPath } from "node:url";
import { runTypeScript } from "@queue/test-support";
import { describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));

describe("--db with a PostgreSQL URL", () => {
  it("an unreachable server is a one-line error that names it without the password (@queue/postgres comes with the CLI)", async () => {
    const result = await runTypeScript(BIN, ["list", "--db", "postgres://app:s3cret@127.0.0.1:1/test"], {
      env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^error: .*postgres:\/\/app@127\.0\.0\.1:1\/test/);
    expect(result.stderr).not.toMatch(/is not installed/);
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

  it("every SQLite-only command refuses a server URL with a usage error naming it and what to use instead, connecting to nothing", async () => {
    const cases: [string[], RegExp][] = [
      [["backup", "/tmp/never.db"], /pg_dump/],
      [["restore", "/tmp/never.db"], /pg_restore/],
      [["vacuum"], /autovacuum runs VACUUM and ANALYZE/],
      [["checkpoint"], /checkpoints its WAL on its own/],
      [["integrity"], /amcheck/],
      [["validate"], /amcheck/],
      [["demo", "--tour", "--yes"], /the tour makes a fresh SQLite file/],
    ];
    const results = await Promise.all(
      cases.map(([args]) =>
        runTypeScript(BIN, [...args, "--db", "postgres://app:s3cret@127.0.0.1:1/test"], {
          env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined },
        }),
      ),
    );
    for (const [index, [args, instead]] of cases.entries()) {
      const result = results[index] as (typeof results)[number];
      const [message, hint, ...rest] = result.stderr.trim().split("\n");
      const command = args[1] === "--tour" ? "demo --tour" : args[0];
      expect(result.code, args[0]).toBe(2);
      expect(message).toBe(
        `error: queue ${command} only works on a SQLite file; --db names a PostgreSQL database (postgres://app:***@127.0.0.1:1/test).`,
      );
      expect(hint).toMatch(/^hint: /);
      expect(hint).toMatch(instead);
      expect(rest).toEqual([]);
      expect(result.stdout).toBe("");
    }
  });

  it("the commands whose work is on the storage port open the store the URL names", async () => {
    const commands = [
      ["stats"],
      ["workers"],
      ["retry", "--dead-letter"],
      ["cleanup", "--completed-older-than", "7d"],
      ["migrate", "--registry", "/tmp/never-runs.json"],
      ["rollback", "--registry", "/tmp/never-runs.json"],
      ["export"],
      ["logs", "1"],
      ["demo", "--tasks", "20"],
    ];
    const results = await Promise.all(
      commands.map((args) =>
        runTypeScript(BIN, [...args, "--db", "postgres://127.0.0.1:1/test"], { env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined } }),
      ),
    );
    for (const [index, result] of results.entries()) {
      // Each one tried the server (port 1 answers nobody): the store was opened on the URL, not on a file named after it.
      expect(result.code, commands[index]?.join(" ")).toBe(1);
      expect(result.stderr, commands[index]?.join(" ")).toMatch(/^error: .*PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/test/);
    }
  });
});
