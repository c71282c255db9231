// The library options accept a PostgreSQL URL as well as a file path: `url`, a URL given as `path`,
// or one in QUEUE_DB_PATH. @queue/postgres is a dev dependency here, found from the package (the
// working directory) as an application's own install would be; the application runs as a process
// of its own, as users run theirs.
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { isQueueError } from "@queue/core";
import { createTaskManager, QueuedTaskManager, resolveTaskExecutionConfig } from "@queue/integration";
import { PostgresStore } from "@queue/postgres";
import { freshSchemaUrl, runTypeScript, TEST_POSTGRES_URL, tempDbPath } from "@queue/test-support";
import { Worker } from "@queue/worker-engine";
import { afterAll, describe, expect, it } from "vitest";

const FIXTURE = fileURLToPath(new URL("./fixtures/postgres-location.ts", import.meta.url));
const PACKAGE = fileURLToPath(new URL("..", import.meta.url));
const schemas: string[] = [];

const schemaUrl = () => freshSchemaUrl("location", schemas);

afterAll(async () => {
  const admin = new PostgresStore({ url: TEST_POSTGRES_URL });
  try {
    for (const schema of schemas) await admin.pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.close();
  }
});

describe("a PostgreSQL URL in the library options", () => {
  it("QueueClient({ url }), Worker({ path: url }), QueuedTaskManager({ url }) and QUEUE_DB_PATH all run on PostgreSQL", async () => {
    const result = await runTypeScript(FIXTURE, [schemaUrl(), schemaUrl(), schemaUrl()], {
      cwd: PACKAGE,
      env: { QUEUE_DB_PATH: undefined },
    });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      backends: ["postgres", "postgres"],
      task: { status: "completed", result: 42 },
      manager: "postgres",
      run: "completed",
      closedAfter: "closed",
      fromEnv: "postgres",
    });
  });

  it("createTaskManager: queueDbUrl in the config wins over a file in QUEUE_DB_PATH (one setting, later layers win)", () => {
    const url = "postgres://127.0.0.1:1/test";
    expect(resolveTaskExecutionConfig({ config: { queueDbUrl: url }, env: { QUEUE_DB_PATH: tempDbPath() } })).toEqual({
      backend: "in-memory",
      fallbackEnabled: true,
      queueDbUrl: url,
    });
  });
});

describe("url and path together", () => {
  it("are refused with INVALID_CONFIG by QueueClient, Worker, QueuedTaskManager and createTaskManager, before anything opens", () => {
    const url = "postgres://127.0.0.1:1/test";
    const path = tempDbPath();
    const attempts: [string, () => unknown][] = [
      ["QueueClient", () => new QueueClient({ url, path })],
      ["Worker", () => new Worker({ url, path, handlers: {} })],
      ["QueuedTaskManager", () => new QueuedTaskManager({ url, path })],
      [
        "createTaskManager",
        () => createTaskManager({ config: { backend: "queue", queueDbPath: path, queueDbUrl: url, fallbackEnabled: false }, env: {} }),
      ],
    ];
    for (const [name, attempt] of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (thrown) {
        error = thrown;
      }
      expect(isQueueError(error, "INVALID_CONFIG"), name).toBe(true);
    }
    expect(() => new QueueClient({ url: path })).toThrow(/url must be a postgres:\/\/ or postgresql:\/\/ URL/);
  });
});
