// Faults a database server brings that a file does not, on real processes: connections killed
// with pg_terminate_backend mid-claim, mid-completion and while listening; the server restarted
// under load; a pool exhausted; statements past the statement timeout. Each run checks that every
// task a producer was told it enqueued is completed, its handler ran exactly once, and every error
// that reached a worker's `error` event or a producer was a typed QueueError.
import { QueueClient } from "@queue/client";
import { isQueueError } from "@queue/core";
import { PostgresStore, workChannel } from "@queue/postgres";
import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { Worker } from "@queue/worker-engine";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { describeError, type ReportedError } from "../src/chaos-errors.js";
import { readExecutions, recordingHandler } from "../src/chaos-record.js";
import { openQueueReader, splitPostgresLocation } from "../src/chaos-storage.js";
import { checkExactlyOnce, type FaultRunReport, runFaultScenario, tally } from "../src/postgres-faults.js";
import { dropSchema, freshSchemaLocation, POSTGRES_TEST_URL, PrivateCluster } from "../src/postgres-server.js";

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  removeTempDirs();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function freshLocation(url: string, prefix: string): string {
  const location = freshSchemaLocation(url, prefix);
  cleanups.push(() => dropSchema(location).catch(() => undefined));
  return location;
}

/** The codes a fault may bring to a worker or a producer: typed, and about the server. */
function expectTyped(errors: readonly ReportedError[], allowed: readonly string[]): void {
  const untyped = errors.filter((error) => !error.typed);
  expect(untyped, "every error is a QueueError").toEqual([]);
  expect(errors.filter((error) => !allowed.includes(error.code ?? "?"))).toEqual([]);
  // Each keeps the driver's error as its cause.
  expect(errors.filter((error) => error.cause === undefined)).toEqual([]);
}

function logReport(name: string, report: FaultRunReport, extra: string): void {
  console.log(
    `${name}: enqueued ${report.enqueued}, completed ${report.completed} (each handler run once: ${report.problems.length === 0}), ` +
      `${extra}; worker errors ${JSON.stringify(tally(report.workerErrors))}, producer errors ${JSON.stringify(tally(report.producerErrors))}, ` +
      `${report.durationMs} ms`,
  );
}

/** An admin connection on the server of `location`, closed after the file's tests. */
async function adminClient(location: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: splitPostgresLocation(location).url });
  client.on("error", () => undefined);
  await client.connect();
  cleanups.push(() => client.end().catch(() => undefined));
  return client;
}

describe("PostgreSQL faults: worker and producer processes keep going, nothing lost, nothing completed twice", () => {
  it("connections killed with pg_terminate_backend mid-claim, mid-completion and while listening", async () => {
    const location = freshLocation(POSTGRES_TEST_URL, "faults_kill");
    const { schema } = splitPostgresLocation(location);
    const listener = `queue:${workChannel(schema)}`;
    const admin = await adminClient(location);
    const kills = { claim: 0, completion: 0, listener: 0, other: 0 };
    const listenersKilled = new Set<number>();
    const workers = 2;
    const report = await runFaultScenario({
      location,
      dir: makeTempDir("pg-kill-"),
      workers,
      producers: 2,
      tasksPerProducer: 1_500,
      async fault({ producing }) {
        const started = Date.now();
        let lastKill = 0;
        const enough = () => kills.claim >= 5 && kills.completion >= 5 && kills.listener >= 2 && kills.other >= 2;
        while ((!enough() || producing()) && Date.now() - started < 30_000) {
          const { rows } = await admin.query<{ pid: number; query: string; application_name: string }>(
            `SELECT pid, query, application_name FROM pg_stat_activity
              WHERE pid <> pg_backend_pid() AND datname = current_database()
                AND (application_name = $1 OR (query LIKE $2 AND state IN ('active', 'idle in transaction', 'idle')))`,
            [listener, `%"${schema}".%`],
          );
          // A short pause between looks: the probe must not starve the server (or other tests) of CPU.
          if (Date.now() - lastKill < 40 || rows.length === 0) {
            await sleep(2);
            continue;
          }
          const busy = (pattern: RegExp) => rows.find((row) => row.application_name !== listener && pattern.test(row.query));
          const choice =
            (kills.claim <= kills.completion ? busy(/SKIP LOCKED/) : undefined) ??
            busy(/status = 'completed'/) ??
            busy(/SKIP LOCKED/) ??
            (kills.listener < 2 + Math.floor((Date.now() - started) / 2_000)
              ? rows.find((row) => row.application_name === listener && !listenersKilled.has(row.pid))
              : undefined) ??
            (kills.other < kills.claim / 3 ? rows.find((row) => row.application_name !== listener) : undefined);
          if (choice === undefined) continue;
          const [{ done }] = (await admin.query<{ done: boolean }>("SELECT pg_terminate_backend($1) AS done", [choice.pid])).rows as [
            { done: boolean },
          ];
          if (!done) continue;
          lastKill = Date.now();
          if (choice.application_name === listener) {
            kills.listener += 1;
            listenersKilled.add(choice.pid);
          } else if (/SKIP LOCKED/.test(choice.query)) kills.claim += 1;
          else if (/status = 'completed'/.test(choice.query)) kills.completion += 1;
          else kills.other += 1;
        }
        // Every worker listens again, on a new connection.
        const deadline = Date.now() + 15_000;
        for (;;) {
          const { rows } = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1", [listener]);
          if (rows.length >= workers && rows.every((row) => !listenersKilled.has(row.pid))) break;
          if (Date.now() > deadline) throw new Error(`the workers did not listen again: ${JSON.stringify(rows)}`);
          await sleep(50);
        }
      },
    });
    logReport("terminated connections", report, `killed ${JSON.stringify(kills)}`);
    expect(report.problems).toEqual([]);
    expect(report.completed).toBe(report.enqueued);
    expect(report.enqueued).toBe(3_000);
    expect(kills.claim).toBeGreaterThanOrEqual(5);
    expect(kills.completion).toBeGreaterThanOrEqual(5);
    expect(kills.listener).toBeGreaterThanOrEqual(2);
    expect(report.workerErrors.length).toBeGreaterThan(0);
    expectTyped(report.workerErrors, ["DATABASE_UNAVAILABLE"]);
    expectTyped(report.producerErrors, ["DATABASE_UNAVAILABLE"]);
  }, 120_000);

  it("the server restarted twice under load (a fast shutdown, then a crash), on a cluster of the test's own", async () => {
    const cluster = await PrivateCluster.create();
    cleanups.push(() => cluster.destroy());
    const location = freshSchemaLocation(cluster.url, "faults_restart");
    const reader = openQueueReader(location);
    cleanups.push(() => reader.close());
    const outages: number[] = [];
    // Read beside the run; a read on a connection the restart just ended is tried again.
    const completed = async (): Promise<number> => {
      for (let tries = 1; ; tries++) {
        try {
          return await reader.count("completed");
        } catch (error) {
          if (tries >= 20) throw error;
          await sleep(100);
        }
      }
    };
    const report = await runFaultScenario({
      location,
      dir: makeTempDir("pg-restart-"),
      workers: 2,
      producers: 2,
      tasksPerProducer: 2_000,
      workerEnv: { CHAOS_PG_CONNECTION_TIMEOUT_MS: "2000" },
      async fault() {
        for (const mode of ["fast", "immediate"] as const) {
          // Under load: tasks are being completed when the server goes.
          const before = await completed();
          while ((await completed()) < before + 300) await sleep(50);
          const down = Date.now();
          cluster.stop(mode);
          await sleep(1_000);
          cluster.start();
          outages.push(Date.now() - down);
        }
      },
    });
    logReport("server restarts", report, `outages ${outages.join(" ms, ")} ms`);
    expect(report.problems).toEqual([]);
    expect(report.enqueued).toBe(4_000);
    expect(report.completed).toBe(report.enqueued);
    expect(report.workerErrors.length).toBeGreaterThan(0);
    expectTyped(report.workerErrors, ["DATABASE_UNAVAILABLE"]);
    expectTyped(report.producerErrors, ["DATABASE_UNAVAILABLE"]);
  }, 180_000);

  it("statements past the statement timeout while another session holds the tasks table", async () => {
    const location = freshLocation(POSTGRES_TEST_URL, "faults_timeout");
    const { schema } = splitPostgresLocation(location);
    const admin = await adminClient(location);
    let locks = 0;
    const report = await runFaultScenario({
      location,
      dir: makeTempDir("pg-timeout-"),
      workers: 2,
      producers: 1,
      tasksPerProducer: 2_000,
      workerEnv: { CHAOS_PG_STATEMENT_TIMEOUT_MS: "300" },
      async fault() {
        for (let round = 0; round < 2; round++) {
          await sleep(500);
          await admin.query("BEGIN");
          await admin.query(`LOCK TABLE "${schema}".tasks IN ACCESS EXCLUSIVE MODE`);
          await sleep(1_500);
          await admin.query("COMMIT");
          locks += 1;
        }
      },
    });
    logReport("statement timeout", report, `the table locked ${locks} times for 1.5 s`);
    expect(report.problems).toEqual([]);
    expect(report.enqueued).toBe(2_000);
    expect(report.completed).toBe(report.enqueued);
    expect(report.workerErrors.some((error) => error.code === "TIMEOUT" && error.detail === "statement")).toBe(true);
    expectTyped(report.workerErrors, ["TIMEOUT"]);
    expectTyped(report.producerErrors, []);
  }, 120_000);

  it("a small pool held by other work past its connection timeout", async () => {
    const location = freshLocation(POSTGRES_TEST_URL, "faults_pool");
    const dir = makeTempDir("pg-pool-");
    const store = await PostgresStore.open({ url: location, maxConnections: 2, connectionTimeoutMs: 200 });
    cleanups.push(() => store.close());
    const client = new QueueClient({ store });
    const worker = new Worker({
      store,
      concurrency: 8,
      leaseMs: 8_000,
      pollIntervalMs: 50,
      handlers: { work: recordingHandler(dir, 5) },
    });
    const workerErrors: ReportedError[] = [];
    worker.on("error", (error) => workerErrors.push(describeError(error)));
    await worker.start();
    cleanups.push(() => worker.stop({ graceful: false }));

    const producerErrors: ReportedError[] = [];
    const keys = new Set<string>();
    const produce = (async () => {
      for (let batch = 0; batch < 100; batch++) {
        const items = Array.from({ length: 10 }, (_, n) => ({
          type: "work",
          payload: { n: batch * 10 + n },
          options: { idempotencyKey: `pool-${batch * 10 + n}` },
        }));
        for (;;) {
          try {
            await client.enqueueMany(items);
            for (const item of items) keys.add(item.options.idempotencyKey);
            break;
          } catch (error) {
            producerErrors.push(describeError(error));
            await sleep(50);
          }
        }
        await sleep(10);
      }
    })();
    // Take every connection of the pool for 1.5 s, twice: the worker's and the producer's calls
    // wait 200 ms for one, then fail with TIMEOUT and try again.
    let exhausted = 0;
    for (let round = 0; round < 2; round++) {
      await sleep(300);
      const held: pg.PoolClient[] = [];
      while (held.length < 2) {
        const connection = await store.pool.connect().catch(() => undefined);
        if (connection !== undefined) held.push(connection);
      }
      await sleep(1_500);
      for (const connection of held) connection.release();
      exhausted += 1;
    }
    await produce;
    const reader = openQueueReader(location);
    cleanups.push(() => reader.close());
    const deadline = Date.now() + 30_000;
    while ((await reader.pending()) > 0 && Date.now() < deadline) await sleep(50);
    await worker.stop();
    const tasks = await reader.tasks();
    const problems = checkExactlyOnce(tasks, keys, readExecutions(dir));
    const typedErrors = workerErrors.concat(producerErrors);
    console.log(
      `pool exhausted ${exhausted} times for 1.5 s (2 connections, 200 ms timeout): enqueued ${keys.size}, ` +
        `completed ${tasks.filter((task) => task.status === "completed").length}; worker errors ${JSON.stringify(tally(workerErrors))}, ` +
        `producer errors ${JSON.stringify(tally(producerErrors))}`,
    );
    expect(problems).toEqual([]);
    expect(keys.size).toBe(1_000);
    expect(tasks.length).toBe(1_000);
    expect(typedErrors.some((error) => error.code === "TIMEOUT" && error.detail === "pool-exhausted")).toBe(true);
    expectTyped(workerErrors, ["TIMEOUT"]);
    expectTyped(producerErrors, ["TIMEOUT"]);
  }, 120_000);

  it("a server that refuses connections gives DATABASE_UNAVAILABLE saying what to do, with the driver's error as cause", async () => {
    const store = new PostgresStore({ url: "postgres://postgres@127.0.0.1:1/test?schema=nowhere", connectionTimeoutMs: 1_000 });
    cleanups.push(() => store.close());
    const error = await store.countTasksByStatus().catch((caught: unknown) => caught);
    expect(isQueueError(error, "DATABASE_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).toMatch(/127\.0\.0\.1:1.*check that PostgreSQL is running/is);
    expect((error as Error & { details: Record<string, unknown> }).details).toMatchObject({ errno: "ECONNREFUSED", retryable: true });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});
