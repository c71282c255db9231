// Child process: a worker whose handler records every execution durably. Prints "ready" once it
// has started; on SIGTERM stops gracefully and prints a JSON report (stats and error events).
// Settings come from the environment: CHAOS_DB, CHAOS_LOG_DIR, CHAOS_LEASE_MS, CHAOS_CONCURRENCY,
// CHAOS_WORK_MS, CHAOS_POLL_MS.
import { Worker } from "@queue/worker-engine";
import { recordingHandler } from "./chaos-record.js";

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const errors: { code?: string; message: string }[] = [];
const worker = new Worker({
  path: env("CHAOS_DB"),
  concurrency: Number(env("CHAOS_CONCURRENCY", "4")),
  leaseMs: Number(env("CHAOS_LEASE_MS", "1500")),
  pollIntervalMs: Number(env("CHAOS_POLL_MS", "50")),
  strategy: "fifo",
  handleSignals: true,
  handlers: { work: recordingHandler(env("CHAOS_LOG_DIR"), Number(env("CHAOS_WORK_MS", "5"))) },
});
worker.on("error", (error) => {
  errors.push({ code: (error as { code?: string }).code, message: (error as Error).message });
});
worker.once("stopped", () => {
  process.stdout.write(`${JSON.stringify({ pid: process.pid, stats: worker.stats, errors })}\n`);
});
await worker.start();
process.stdout.write("ready\n");
