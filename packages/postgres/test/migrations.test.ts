import { fileURLToPath } from "node:url";
import { isQueueError } from "@queue/core";
import { runTypeScript } from "@queue/test-support";
import { describe, expect, it } from "vitest";
import { POSTGRES_SCHEMA_VERSION, PostgresStore, readPostgresSchemaVersion } from "../src/index.js";
import { admin, freshSchema, openStore, TEST_URL } from "./helpers.js";

const MIGRATE = fileURLToPath(new URL("./fixtures/migrate.ts", import.meta.url));

describe("migrations", () => {
  it("several processes migrating one new schema at once all succeed, and each migration is applied once", async () => {
    const schema = freshSchema();
    const results = await Promise.all(Array.from({ length: 4 }, () => runTypeScript(MIGRATE, [TEST_URL, schema])));
    for (const result of results) {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ version: POSTGRES_SCHEMA_VERSION });
    }
    const { rows } = await admin.query(
      `SELECT version, count(*)::int AS n FROM "${schema}".queue_migrations GROUP BY version ORDER BY version`,
    );
    expect(rows).toEqual(Array.from({ length: POSTGRES_SCHEMA_VERSION }, (_, index) => ({ version: index + 1, n: 1 })));
  });

  it("stores on separate pools migrating at once in one process agree too", async () => {
    const schema = freshSchema();
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ url: TEST_URL, schema }));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      expect(await readPostgresSchemaVersion({ pool: admin, schema, location: "test" })).toBe(POSTGRES_SCHEMA_VERSION);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("refuses a schema written by newer code with SCHEMA_TOO_NEW, and writes nothing to it", async () => {
    const store = await openStore();
    await admin.query(`INSERT INTO "${store.schema}".queue_migrations (version, name, applied_at) VALUES (99, 'future', 0)`);
    const error = await PostgresStore.open({ url: TEST_URL, schema: store.schema }).catch((thrown: unknown) => thrown);
    expect(isQueueError(error, "SCHEMA_TOO_NEW")).toBe(true);
    expect((error as Error).message).toMatch(/version 99/);
    // A store that migrates lazily refuses on its first operation.
    const lazy = new PostgresStore({ url: TEST_URL, schema: store.schema });
    try {
      const first = await lazy.countTasksByStatus().catch((thrown: unknown) => thrown);
      expect(isQueueError(first, "SCHEMA_TOO_NEW")).toBe(true);
    } finally {
      await lazy.close();
    }
    const { rows } = await admin.query(`SELECT max(version)::int AS version, count(*)::int AS n FROM "${store.schema}".queue_migrations`);
    expect(rows).toEqual([{ version: 99, n: POSTGRES_SCHEMA_VERSION + 1 }]);
  });
});
