import { randomUUID } from "node:crypto";
import { PostgresStore } from "@queue/postgres";
import pg from "pg";
import { afterAll } from "vitest";
import { describeBackendConformance } from "../src/index.js";

/** The server the suite runs on; each store gets a fresh schema of its own, dropped after its test. */
const url = process.env.QUEUE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const admin = new pg.Pool({ connectionString: url, max: 2 });

afterAll(() => admin.end());

describeBackendConformance({
  name: "postgres",
  async createStore() {
    return PostgresStore.open({ url, schema: `conformance_${randomUUID().replaceAll("-", "").slice(0, 16)}` });
  },
  async openPeer(store) {
    return PostgresStore.open({ url, schema: (store as PostgresStore).schema });
  },
  async destroy(store) {
    await admin.query(`DROP SCHEMA IF EXISTS "${(store as PostgresStore).schema}" CASCADE`);
  },
});
