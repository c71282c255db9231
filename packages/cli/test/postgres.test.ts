// The CLI on PostgreSQL, end to end: the demo, and moving a queue from SQLite to PostgreSQL and back.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { type ClaimOrder, SqliteStore } from "@queue/core";
import { PostgresStore } from "@queue/postgres";
import { freshSchemaUrl, removeTempDirs, runTypeScript, TEST_POSTGRES_URL, tempDbPath } from "@queue/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";

const BIN = fileURLToPath(new URL("../src/bin.ts", import.meta.url));
const schemas: string[] = [];
const OLDEST_FIRST: ClaimOrder = { by: [{ column: "id", direction: "asc" }] };

const schemaUrl = () => freshSchemaUrl("clitest", schemas);

afterEach(removeTempDirs);
afterAll(async () => {
  const admin = new PostgresStore({ url: TEST_POSTGRES_URL });
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

/** A SQLite queue with a task in every status, log lines, an archived task and a paused type. */
async function populatedFile(): Promise<string> {
  const path = tempDbPath();
  const store = SqliteStore.open({ path });
  const client = new QueueClient({ store });
  try {
    for (const type of ["done", "done", "failing", "cancelled", "waiting", "running", "last"]) {
      await client.enqueue(type, { type }, type === "failing" ? { maxAttempts: 1 } : { idempotencyKey: `k-${type}-${randomUUID()}` });
    }
    await client.cancel(4);
    const claimed = await store.recordAndClaim({
      completions: [],
      failures: [],
      claim: { workerId: "w1", order: OLDEST_FIRST, leaseMs: 60_000, limit: 3, capabilities: [], types: ["done", "failing"] },
    });
    const lease = (taskId: number) => ({ taskId, token: claimed.lease?.token as string, workerId: "w1" });
    await store.appendTaskLog(1, "info", "first", '{"a":1}');
    await store.appendTaskLog(3, "error", "broke", null);
    await store.recordAndClaim({
      completions: [
        { lease: lease(1), result: '{"ok":1}' },
        { lease: lease(2), result: '{"ok":2}' },
      ],
      failures: [{ lease: lease(3), failure: { outcome: "dead_letter", error: '{"name":"Error","message":"boom"}' } }],
    });
    // The first completed task goes to the archive (the newest task is never removed).
    await store.removeFinishedBatch({ status: "completed", before: store.clock.now() + 1, limit: 1, archive: true });
    await store.pauseType("waiting");
  } finally {
    await client.close();
    await store.close();
  }
  return path;
}

describe("queue migrate-backend", () => {
  it("copies SQLite to PostgreSQL and back: every row the same, checksums equal, ids preserved and the next id past them", async () => {
    const file = await populatedFile();
    const url = schemaUrl();
    const there = await queue(["migrate-backend", "--from", file, "--to", url, "--batch-size", "2", "--json"]);
    expect(there.stderr).toBe("");
    expect(there.code).toBe(0);
    const first = there.json();
    expect(first).toMatchObject({ tasks: 6, logs: 1, archived: 1, paused: ["waiting"], leased: 0 });
    expect(first.byStatus).toEqual({ queued: 3, leased: 0, completed: 1, dead_letter: 1, cancelled: 1 });

    const back = tempDbPath("back.db");
    const home = await queue(["migrate-backend", "--from", url, "--to", back, "--json"]);
    expect(home.code).toBe(0);
    expect(home.json().checksums).toEqual(first.checksums);
    expect((await queue(["list", "--db", back, "--json", "--limit", "100"])).json().tasks).toEqual(
      (await queue(["list", "--db", file, "--json", "--limit", "100"])).json().tasks,
    );

    const next = await queue(["enqueue", "after", "{}", "--db", url, "--json"]);
    expect(next.json().task.id).toBe(8);
    const nextBack = await queue(["enqueue", "after", "{}", "--db", back, "--json"]);
    expect(nextBack.json().task.id).toBe(8);
  });

  it("refuses while workers hold leases (unless --force) and refuses a target that is not empty", async () => {
    const path = tempDbPath();
    const store = SqliteStore.open({ path });
    const client = new QueueClient({ store });
    await client.enqueue("long", {});
    await store.recordAndClaim({
      completions: [],
      failures: [],
      claim: { workerId: "w1", order: OLDEST_FIRST, leaseMs: 60_000, limit: 1, capabilities: [] },
    });
    await client.close();
    await store.close();
    const url = schemaUrl();
    const refused = await queue(["migrate-backend", "--from", path, "--to", url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/1 task is leased by workers .*stop the workers/);
    const forced = await queue(["migrate-backend", "--from", path, "--to", url, "--force", "--json"]);
    expect(forced.code).toBe(0);
    expect(forced.json()).toMatchObject({ tasks: 1, leased: 1 });
    const full = await queue(["migrate-backend", "--from", path, "--to", url, "--force"]);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/already holds 1 task\(s\): copy into an empty queue/);
  });
});
