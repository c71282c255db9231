// Child process: a worker whose handler records every execution durably. Prints "ready" once it
// has started; on SIGTERM stops gracefully and prints a JSON report (stats and error events).
// Settings come from the environment: CHAOS_DB (a SQLite file, or a postgres:// URL with
// `?schema=NAME`), CHAOS_LOG_DIR, CHAOS_LEASE_MS, CHAOS_CONCURRENCY, CHAOS_WORK_MS, CHAOS_POLL_MS;
// on PostgreSQL also CHAOS_PG_MAX_CONNECTIONS, CHAOS_PG_CONNECTION_TIMEOUT_MS and
// CHAOS_PG_STATEMENT_TIMEOUT_MS.
import { isServerLocation } from "@queue/core";
import { PostgresStore } from "@queue/postgres";
import { Worker } from "@queue/worker-engine";
import { describeError, type ReportedError } from "./chaos-errors.js";
import { recordingHandler } from "./chaos-record.js";

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};
const optionalNumber = (name: string): number | undefined => (process.env[name] === undefined ? undefined : Number(process.env[name]));

const location = env("CHAOS_DB");
const store = isServerLocation(location)
  ? new PostgresStore({
      url: location,
      maxConnections: optionalNumber("CHAOS_PG_MAX_CONNECTIONS"),
      connectionTimeoutMs: optionalNumber("CHAOS_PG_CONNECTION_TIMEOUT_MS"),
      statementTimeoutMs: optionalNumber("CHAOS_PG_STATEMENT_TIMEOUT_MS"),
    })
  : undefined;
const errors: ReportedError[] = [];
const worker = new Worker({
  ...(store === undefined ? { path: location } : { store }),
  concurrency: Number(env("CHAOS_CONCURRENCY", "4")),
  leaseMs: Number(env("CHAOS_LEASE_MS", "1500")),
  pollIntervalMs: Number(env("CHAOS_POLL_MS", "50")),
  strategy: "fifo",
  handleSignals: true,
  handlers: { work: recordingHandler(env("CHAOS_LOG_DIR"), Number(env("CHAOS_WORK_MS", "5"))) },
});
worker.on("error", (error) => {
  errors.push(describeError(error));
});
worker.once("stopped", () => {
  void (async () => {
    await store?.close();
    process.stdout.write(`${JSON.stringify({ pid: process.pid, stats: worker.stats, errors })}\n`);
  })();
});
await worker.start();
process.stdout.write("ready\n");
