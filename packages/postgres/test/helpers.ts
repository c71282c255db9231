import { randomUUID } from "node:crypto";
import type { NewTaskRow, QueueStore } from "@queue/core";
import pg from "pg";
import { afterAll } from "vitest";
import { PostgresStore, type PostgresStoreOptions } from "../src/index.js";

/** The server the tests run on (loopback by default). */
export const TEST_URL = process.env.QUEUE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export const admin = new pg.Pool({ connectionString: TEST_URL, max: 4 });
const schemas: string[] = [];
const stores: PostgresStore[] = [];

afterAll(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const schema of schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await admin.end();
});

/** A schema name no other test uses; dropped after the file's tests. */
export function freshSchema(): string {
  const schema = `pgtest_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  schemas.push(schema);
  return schema;
}

/** A migrated store on `schema` (a fresh one by default), closed after the file's tests. */
export async function openStore(options: Partial<PostgresStoreOptions> = {}): Promise<PostgresStore> {
  const store = await PostgresStore.open({ url: TEST_URL, schema: options.schema ?? freshSchema(), ...options });
  stores.push(store);
  return store;
}

export function newRow(store: QueueStore, overrides: Partial<NewTaskRow> = {}): NewTaskRow {
  return {
    type: "work",
    priority: 0,
    payload: "{}",
    maxAttempts: 3,
    runAfter: store.clock.now(),
    idempotencyKey: null,
    timeoutMs: null,
    requiredCapabilities: null,
    traceParent: null,
    ...overrides,
  };
}

export async function insertIds(store: QueueStore, count: number, overrides: Partial<NewTaskRow> = {}): Promise<number[]> {
  const { rows } = await store.insertTasks(Array.from({ length: count }, () => newRow(store, overrides)));
  return rows as number[];
}
