import { isQueueError } from "@queue/core";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { inTransaction } from "../src/db.js";
import { driverError, toQueueError } from "../src/errors.js";
import { PostgresStore } from "../src/index.js";
import { admin, freshSchema, insertIds, openStore, TEST_URL } from "./helpers.js";

const LOCATION = "postgres://app@db:5432/app?schema=queue";

/** An error as pg's protocol parser makes it: a message and a SQLSTATE. */
function serverError(code: string, message: string): Error {
  return driverError(Object.assign(new Error(message), { code })) as Error;
}

function mapped(error: unknown) {
  const queueError = toQueueError(error, LOCATION);
  expect(isQueueError(queueError)).toBe(true);
  return queueError as Error & { code: string; details: Record<string, unknown>; path: string };
}

describe("driver and server errors as QueueErrors", () => {
  it.each([
    ["57P01", "terminating connection due to administrator command", "DATABASE_UNAVAILABLE"],
    ["57P02", "terminating connection due to crash of another server process", "DATABASE_UNAVAILABLE"],
    ["57P03", "the database system is starting up", "DATABASE_UNAVAILABLE"],
    ["08006", "connection failure", "DATABASE_UNAVAILABLE"],
    ["53300", "sorry, too many clients already", "DATABASE_UNAVAILABLE"],
    ["57014", "canceling statement due to statement timeout", "TIMEOUT"],
    ["57014", "canceling statement due to user request", "TIMEOUT"],
    ["40P01", "deadlock detected", "BUSY"],
    ["40001", "could not serialize access due to concurrent update", "BUSY"],
    ["55P03", "canceling statement due to lock timeout", "BUSY"],
    ["23505", "duplicate key value violates unique constraint", "UNIQUE_VIOLATION"],
    ["25006", "cannot execute UPDATE in a read-only transaction", "READ_ONLY"],
    ["53100", "could not extend file: No space left on device", "DISK_FULL"],
    ["28P01", 'password authentication failed for user "app"', "CANNOT_OPEN"],
    ["3D000", 'database "app" does not exist', "CANNOT_OPEN"],
    ["42P01", 'relation "queue.tasks" does not exist', "POSTGRES_ERROR"],
  ])("SQLSTATE %s (%s) is %s, with the location, the SQLSTATE and the cause", (sqlState, message, code) => {
    const cause = serverError(sqlState, message);
    const error = mapped(cause);
    expect(error.code).toBe(code);
    expect(error.message).toContain(LOCATION);
    expect(error.message).toContain(message);
    expect(error.details.sqlState).toBe(sqlState);
    expect(error.cause).toBe(cause);
    expect(error.path).toBe(LOCATION);
  });

  it.each([
    ["ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5432", "DATABASE_UNAVAILABLE"],
    ["ECONNRESET", "read ECONNRESET", "DATABASE_UNAVAILABLE"],
    ["ETIMEDOUT", "connect ETIMEDOUT 10.0.0.1:5432", "DATABASE_UNAVAILABLE"],
  ])("a socket error %s is %s and retryable", (errno, message, code) => {
    const error = mapped(driverError(Object.assign(new Error(message), { code: errno })));
    expect(error.code).toBe(code);
    expect(error.details).toEqual({ errno, retryable: true });
    expect(error.message).toMatch(/check that PostgreSQL is running/i);
  });

  it.each([
    ["timeout exceeded when trying to connect", "TIMEOUT", "pool-exhausted"],
    ["Connection terminated due to connection timeout", "DATABASE_UNAVAILABLE", undefined],
    ["Connection terminated unexpectedly", "DATABASE_UNAVAILABLE", undefined],
    ["Client has encountered a connection error and is not queryable", "DATABASE_UNAVAILABLE", undefined],
    ["Query read timeout", "TIMEOUT", "query"],
  ])("pg's own error %j is %s", (message, code, reason) => {
    const error = mapped(driverError(new Error(message)));
    expect(error.code).toBe(code);
    expect(error.details.reason).toBe(reason);
    expect(error.details.retryable).toBe(true);
  });

  it("any other error the driver threw is POSTGRES_ERROR; an error of the caller's own code passes through", () => {
    expect(mapped(driverError(new Error("Received unexpected commandComplete message from backend."))).code).toBe("POSTGRES_ERROR");
    const own = new Error("the hook failed");
    expect(toQueueError(own, LOCATION)).toBe(own);
    const ownFileError = Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    expect(toQueueError(ownFileError, LOCATION)).toBe(ownFileError);
  });
});

describe("faults on a live server", () => {
  it("a server that refuses connections: DATABASE_UNAVAILABLE, and the store works once it is reachable", async () => {
    const store = new PostgresStore({ url: "postgres://postgres@127.0.0.1:1/test?schema=nowhere", connectionTimeoutMs: 1_000 });
    try {
      const error = await store.countTasksByStatus().catch((caught: unknown) => caught);
      expect(isQueueError(error, "DATABASE_UNAVAILABLE")).toBe(true);
      expect((error as Error).message).toMatch(/127\.0\.0\.1:1/);
    } finally {
      await store.close();
    }
  });

  it("a migration that failed because the server was away is tried again by the next call", async () => {
    // A pool whose first query fails as an unreachable server's would: the store must not keep the failure.
    const pool = new pg.Pool({ connectionString: TEST_URL, max: 2 });
    let failNext = true;
    const query = pool.query.bind(pool);
    pool.query = ((...args: Parameters<typeof query>) => {
      if (!failNext) return query(...args);
      failNext = false;
      return Promise.reject(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" }));
    }) as typeof pool.query;
    const store = new PostgresStore({ pool, schema: freshSchema() });
    try {
      const first = await store.migrate().catch((caught: unknown) => caught);
      expect(isQueueError(first, "DATABASE_UNAVAILABLE")).toBe(true);
      await store.migrate();
      expect(await store.countTasksByStatus()).toMatchObject({ queued: 0 });
    } finally {
      await store.close();
      await pool.end();
    }
  });

  it("a pooled connection killed with pg_terminate_backend, busy or idle: the calls after it run on a new connection", async () => {
    const store = await openStore({ maxConnections: 1 });
    await insertIds(store, 3);
    const [{ pid }] = (await store.pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows as [{ pid: number }];
    const slow = store.pool.query("SELECT pg_sleep(5)").catch((caught: unknown) => caught);
    const inFlight = store.countTasksByStatus().catch((caught: unknown) => caught);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await admin.query("SELECT pg_terminate_backend($1)", [pid]);
    expect(await slow).toBeInstanceOf(Error);
    // The call waiting for the one connection gets a new one.
    expect(await inFlight).toMatchObject({ queued: 3 });
    // A pooled connection killed while idle is replaced at the next call.
    const [{ pid: idle }] = (await store.pool.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows as [{ pid: number }];
    await admin.query("SELECT pg_terminate_backend($1)", [idle]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await store.countTasksByStatus()).toMatchObject({ queued: 3 });
  });

  it("a transaction whose connection is killed between two statements fails with DATABASE_UNAVAILABLE, and does not crash the process", async () => {
    const store = await openStore({ maxConnections: 1 });
    const failure = await inTransaction(store.pool, `"${store.schema}"`, store.location, async (db) => {
      const [row] = await db.rows<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      await admin.query("SELECT pg_terminate_backend($1)", [row?.pid]);
      // The server's goodbye arrives while no statement is in flight: the client emits "error".
      await new Promise((resolve) => setTimeout(resolve, 100));
      await db.rows("SELECT 1");
    }).catch((caught: unknown) => caught);
    expect(isQueueError(failure, "DATABASE_UNAVAILABLE")).toBe(true);
    expect(await store.countTasksByStatus()).toMatchObject({ queued: 0 });
  });

  it("statements past statementTimeoutMs fail with TIMEOUT (reason statement) while a lock is held, and succeed after", async () => {
    const store = await openStore({ statementTimeoutMs: 100 });
    await insertIds(store, 2);
    const locker = await admin.connect();
    try {
      await locker.query("BEGIN");
      await locker.query(`LOCK TABLE "${store.schema}".tasks IN ACCESS EXCLUSIVE MODE`);
      const error = await store.countTasksByStatus().catch((caught: unknown) => caught);
      expect(isQueueError(error, "TIMEOUT")).toBe(true);
      expect((error as { details: unknown }).details).toMatchObject({ sqlState: "57014", reason: "statement", retryable: true });
      await locker.query("COMMIT");
    } finally {
      locker.release();
    }
    expect(await store.countTasksByStatus()).toMatchObject({ queued: 2 });
  });

  it("a pool whose connections stay taken: TIMEOUT (reason pool-exhausted) after connectionTimeoutMs, then works", async () => {
    const store = await openStore({ maxConnections: 1, connectionTimeoutMs: 100 });
    const held = await store.pool.connect();
    const error = await store.countTasksByStatus().catch((caught: unknown) => caught);
    held.release();
    expect(isQueueError(error, "TIMEOUT")).toBe(true);
    expect((error as Error).message).toMatch(/raise maxConnections/i);
    expect((error as { details: unknown }).details).toMatchObject({ reason: "pool-exhausted", retryable: true });
    expect(await store.countTasksByStatus()).toMatchObject({ queued: 0 });
  });

  it("the listening connection, killed, comes back on a new connection and counts as a wake-up", async () => {
    const store = await openStore();
    const before = await store.writeMark();
    const name = `queue:queue_work_${store.schema}`;
    const listeners = async () =>
      (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [name])).rows.map(
        (row) => row.pid,
      );
    const [first] = await listeners();
    expect(first).toBeDefined();
    await admin.query("SELECT pg_terminate_backend($1)", [first]);
    const deadline = Date.now() + 10_000;
    let now = await listeners();
    while ((now.length !== 1 || now[0] === first) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      now = await listeners();
    }
    expect(now).toHaveLength(1);
    expect(now[0]).not.toBe(first);
    expect(await store.writeMark()).toBeGreaterThan(before);
  });
});
