// The engine the model-based test drives, on either backend: a fresh SQLite file (the low-level
// lease API inside the store's transactions), or a fresh schema of a PostgreSQL database (the same
// operations through the storage port, as a Worker makes them). Each reads the stored rows back
// with a raw query of its own, never through the store under test.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueClient } from "@queue/client";
import { type ClaimOrder, openQueueDatabase, QueueError, type TaskRow, type TaskStatus, TestClock } from "@queue/core";
import { recoverExpiredLeasesNow } from "@queue/maintenance";
import { PostgresStore } from "@queue/postgres";
import type { SchedulingStrategy } from "@queue/scheduling";
import {
  type ClaimOutcome,
  claim,
  complete,
  type ExtendResult,
  extend,
  type Failure,
  fail,
  type Lease,
  leasedTasks,
} from "@queue/worker-engine";
import pg from "pg";
import { dropSchema, freshSchemaLocation } from "./postgres-server.js";

export interface ModelEngine {
  /**
   * False: task ids are dense (1, 2, 3, ...), as SQLite assigns them. True: they only increase,
   * with gaps, as a PostgreSQL identity does (an insert that meets an idempotency key, or rolls
   * back, still consumes a value).
   */
  readonly idsMayGap: boolean;
  readonly client: QueueClient;
  readonly clock: TestClock;
  claim(request: { workerId: string; strategy: SchedulingStrategy; leaseMs: number; limit: number }): Promise<ClaimOutcome>;
  /** Throws LEASE_LOST when `lease` is not the task's current lease. */
  complete(lease: Lease, result: string): Promise<void>;
  /** The status the task ended in; throws LEASE_LOST when `lease` is not the task's current lease. */
  fail(lease: Lease, failure: Failure): Promise<TaskStatus>;
  extend(leases: readonly Lease[], leaseMs: number): Promise<ExtendResult>;
  /** Ids of the tasks whose expired leases maintenance recovered. */
  recover(): Promise<number[]>;
  /** Every stored task, by id, read beside the store. */
  rows(): Promise<TaskRow[]>;
  /** "ok", or what is wrong with the storage. */
  integrity(): Promise<string>;
  close(): Promise<void>;
}

const ROW_COLUMNS =
  "id, type, priority, payload, status, attempts, max_attempts, run_after, lease_until, lease_token, locked_by, " +
  "idempotency_key, cancel_requested, result, finished_at";

const recoveredIds = (report: Awaited<ReturnType<typeof recoverExpiredLeasesNow>>) =>
  [...report.requeued, ...report.deadLettered, ...report.cancelled].map((task) => task.id);

/** A fresh SQLite file, driven through the low-level lease API in the database's transactions. */
export function sqliteModelEngine(): ModelEngine {
  const dir = mkdtempSync(join(tmpdir(), "queue-model-"));
  const clock = new TestClock();
  const db = openQueueDatabase({ path: join(dir, "queue.db"), clock });
  const client = new QueueClient({ db });
  return {
    idsMayGap: false,
    client,
    clock,
    claim: async (request) => db.transaction((tx) => claim(tx, { ...request, capabilities: [] })),
    complete: async (lease, result) => db.transaction((tx) => complete(tx, lease, result)),
    fail: async (lease, failure) => db.transaction((tx) => fail(tx, lease, failure)),
    extend: async (leases, leaseMs) => db.transaction((tx) => extend(tx, leases, leaseMs)),
    recover: async () => recoveredIds(await recoverExpiredLeasesNow(db)),
    rows: async () => db.connection.prepare(`SELECT ${ROW_COLUMNS} FROM tasks ORDER BY id`).all() as TaskRow[],
    integrity: async () => String(db.connection.pragma("integrity_check", { simple: true })),
    async close() {
      await client.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function leaseLost(lease: Lease, what: string): QueueError {
  return new QueueError("LEASE_LOST", `Cannot ${what} task ${lease.taskId}: the lease is no longer held.`, { details: { ...lease } });
}

/**
 * A fresh schema on the PostgreSQL server at `url`, driven through the storage port: claims,
 * outcomes and renewals are the ticks and heartbeats a Worker sends; a lost lease is what the port
 * reports for it (the task missing from `completed`, a null in `ended`, a lease in `lost`).
 */
export async function postgresModelEngine(url: string): Promise<ModelEngine> {
  const location = freshSchemaLocation(url, "model");
  const clock = new TestClock();
  const store = await PostgresStore.open({ url: location, clock });
  const client = new QueueClient({ store });
  const raw = new pg.Client({ connectionString: url });
  await raw.connect();
  const table = `"${store.schema}".tasks`;
  const tick = (request: Parameters<PostgresStore["recordAndClaim"]>[0]) => store.recordAndClaim(request);
  return {
    idsMayGap: true,
    client,
    clock,
    async claim({ workerId, strategy, leaseMs, limit }) {
      const order: ClaimOrder = strategy.order;
      const result = await tick({ completions: [], failures: [], claim: { workerId, order, leaseMs, limit, capabilities: [] } });
      const lease = result.lease ?? { token: "(none)", workerId, leaseUntil: 0, now: clock.now() };
      return { claimed: leasedTasks(result.claimed, lease, strategy), discarded: result.discarded, recovered: [...result.recovered] };
    },
    async complete(lease, result) {
      const { completed } = await tick({ completions: [{ lease, result }], failures: [] });
      if (!completed.has(lease.taskId)) throw leaseLost(lease, "complete");
    },
    async fail(lease, failure) {
      const { ended } = await tick({ completions: [], failures: [{ lease, failure }] });
      const status = ended[0];
      if (status === null || status === undefined) throw leaseLost(lease, "fail");
      return status;
    },
    async extend(leases, leaseMs) {
      const result = await store.renewLeases({ workerId: leases[0]?.workerId ?? "model", leases, leaseMs });
      return result ?? { held: new Map(), lost: [], lostLeases: [] };
    },
    recover: async () => recoveredIds(await recoverExpiredLeasesNow(store)),
    async rows() {
      const { rows } = await raw.query({ text: `SELECT ${ROW_COLUMNS} FROM ${table} ORDER BY id`, types: BIGINT_AS_NUMBER });
      return rows as TaskRow[];
    },
    async integrity() {
      // The schema's own CHECK constraints hold by construction; what is left to check is that
      // every constraint is still in place and valid.
      const { rows } = await raw.query<{ invalid: string }>(
        "SELECT count(*) AS invalid FROM pg_constraint WHERE connamespace = $1::regnamespace AND NOT convalidated",
        [store.schema],
      );
      return rows[0]?.invalid === "0" ? "ok" : `${rows[0]?.invalid} constraints not validated`;
    },
    async close() {
      await client.close();
      await store.close();
      await raw.end();
      await dropSchema(location);
    },
  };
}

const INT8_OID = 20;
const BIGINT_AS_NUMBER: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};
