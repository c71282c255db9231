// The CLI on PostgreSQL, end to end.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { PostgresStore } from "@queue/postgres";
import { removeTempDirs, runTypeScript } from "@queue/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const SERVER = process.env.QUEUE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const schemas: string[] = [];

/** The server's URL with a fresh schema (dropped after the file's tests). */
function schemaUrl(): string {
  const schema = `clitest_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  schemas.push(schema);
  const url = new URL(SERVER);
  url.searchParams.set("schema", schema);
  return url.toString();
}

afterEach(removeTempDirs);
afterAll(async () => {
  const admin = new PostgresStore({ url: SERVER });
  try {
    for (const schema of schemas) await admin.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.close();
  }
});

async function queue(args: string[], env: Record<string, string | undefined> = {}) {
  const result = await runTypeScript(BIN, args, { env: { NO_COLOR: "1", QUEUE_DB_PATH: undefined, ...env } });
  return { ...result, json: () => JSON.parse(result.stdout) };
}

describe("queue demo on PostgreSQL", () => {
  it("QUEUE_DB_PATH=postgres://…?schema=… runs the demo end to end, says the SQLite file checks are skipped, and refuses a schema that is not empty", async () => {
    const url = schemaUrl();
    const result = await queue(["demo", "--tasks", "200", "--processes", "2", "--json"], { QUEUE_DB_PATH: url });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const summary = result.json();
    expect(summary).toMatchObject({ backend: "postgres", tasks: 201, validation: "skipped" });
    expect(summary.path).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:5432\/test\?schema=clitest_/);
    expect(summary.depth).toMatchObject({ queued: 0, leased: 0, completed: 191, dead_letter: 10 });
    expect(summary.retried).toBe(30);

    const again = await queue(["demo", "--tasks", "20", "--db", url]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/needs an empty one; .* holds 201 tasks/);
    expect(again.stderr).toMatch(/hint: give the URL another schema/);
  });
});
