// graphile-worker 0.17 (the newest that runs on Node 20) on the local PostgreSQL, through its
// public API with its defaults, in a schema of its own per run. Processing uses runTaskList() on a
// migrated schema and a connected pool (run() would also connect and migrate inside the timing),
// with a pool as large as the concurrency, as graphile-worker advises.
import { EventEmitter } from "node:events";
import { Logger, makeWorkerUtils, runMigrations, runTaskList, type WorkerEvents, type WorkerUtils } from "graphile-worker";
import pg from "pg";
import { POSTGRES_URL } from "./availability.js";
import { awaitedCalls, batchedCalls, Completions, inFlightCalls, PAYLOAD_OBJECT, PROCESS_TIMEOUT_MS, perSecond, until } from "./common.js";
import { withSchema } from "./postgres.js";

/** Errors only: graphile-worker logs every completed job at info level by default. */
const logger = new Logger(() => (level, message) => {
  if (level === "error") console.error(`graphile-worker: ${message}`);
});

function withUtils(use: (utils: WorkerUtils) => Promise<number>): Promise<number> {
  return withSchema("graphile", async (schema) => {
    const utils = await makeWorkerUtils({ connectionString: POSTGRES_URL, schema, logger });
    try {
      await utils.migrate();
      return await use(utils);
    } finally {
      await utils.release();
    }
  });
}

/** `await utils.addJob()` one after another. */
export function enqueueAwaited(rows: number): Promise<number> {
  return withUtils(async (utils) => perSecond(rows, await awaitedCalls(rows, () => utils.addJob("bench", PAYLOAD_OBJECT))));
}

/** `inFlight` addJob() calls outstanding at all times (over the utils' pool of 10 connections). */
export function enqueueConcurrent(rows: number, inFlight: number): Promise<number> {
  return withUtils(async (utils) => perSecond(rows, await inFlightCalls(rows, inFlight, () => utils.addJob("bench", PAYLOAD_OBJECT))));
}

/** `utils.addJobs()` with `batch` jobs per call. */
export function enqueueBatches(rows: number, batch: number): Promise<number> {
  const specs = Array.from({ length: batch }, () => ({ identifier: "bench", payload: PAYLOAD_OBJECT }));
  return withUtils(async (utils) => perSecond(rows, await batchedCalls(rows, batch, (size) => utils.addJobs(specs.slice(0, size)))));
}

/**
 * A worker pool at `concurrency` draining `rows` pre-filled no-op jobs; timed from runTaskList() to
 * the last `job:complete` event and no job left in the table (completed jobs are deleted).
 */
export function processQueue(rows: number, concurrency: number): Promise<number> {
  return withSchema("graphile", async (schema) => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: Math.max(10, concurrency) });
    const report = (error: Error) => console.error(`graphile-worker pool: ${error.message}`);
    pool.on("error", report);
    pool.on("connect", (client) => client.on("error", report));
    try {
      await runMigrations({ pgPool: pool, schema, logger });
      const utils = await makeWorkerUtils({ pgPool: pool, schema, logger });
      const specs = Array.from({ length: 1_000 }, () => ({ identifier: "bench", payload: PAYLOAD_OBJECT }));
      for (let done = 0; done < rows; done += 1_000) await utils.addJobs(specs.slice(0, Math.min(1_000, rows - done)));
      await utils.release();
      // Open the pool's connections before the clock starts.
      await Promise.all(Array.from({ length: Math.max(10, concurrency) }, () => pool.query("SELECT 1")));
      const events: WorkerEvents = new EventEmitter();
      const completions = new Completions(rows);
      const failures: string[] = [];
      events.on("job:complete", ({ error }) => {
        if (error === undefined || error === null) completions.add();
        else failures.push(String(error));
      });
      const begin = performance.now();
      const workerPool = runTaskList(
        { concurrency, schema, logger, events, noHandleSignals: true },
        { bench: async () => undefined },
        pool,
      );
      try {
        await completions.reached(PROCESS_TIMEOUT_MS, "graphile-worker");
        const left = async () => Number((await pool.query(`SELECT count(*) AS n FROM ${schema}.jobs`)).rows[0].n);
        await until(async () => (await left()) === 0, PROCESS_TIMEOUT_MS, "graphile-worker");
        const elapsed = performance.now() - begin;
        if (failures.length > 0) throw new Error(`graphile-worker: ${failures.length} jobs failed: ${failures[0]}`);
        return perSecond(rows, elapsed);
      } finally {
        await workerPool.gracefulShutdown();
        await workerPool.promise.catch(() => undefined);
      }
    } finally {
      await pool.end();
    }
  });
}
