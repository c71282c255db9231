// Child process: enqueues "work" tasks in small batches until SIGTERM, then prints a JSON report
// (how many tasks it enqueued, and every error). Settings: CHAOS_DB (a SQLite file or a
// postgres:// URL), CHAOS_BATCH, CHAOS_PRODUCE_INTERVAL_MS, CHAOS_MAX_ATTEMPTS, CHAOS_MAX_TASKS
// (stop after this many; default no limit), CHAOS_RETRY ("1": a batch that fails is enqueued again
// until it goes through, each task under an idempotency key of its own, "<pid>-<n>", so a batch
// that committed before its answer was lost is not enqueued twice).
import { QueueClient } from "@queue/client";
import { isServerLocation } from "@queue/core";
import { PostgresStore } from "@queue/postgres";
import { describeError, type ReportedError } from "./chaos-errors.js";

const location = process.env.CHAOS_DB;
if (location === undefined) throw new Error("CHAOS_DB is not set");
const batch = Number(process.env.CHAOS_BATCH ?? "10");
const intervalMs = Number(process.env.CHAOS_PRODUCE_INTERVAL_MS ?? "25");
const maxAttempts = Number(process.env.CHAOS_MAX_ATTEMPTS ?? "25");
const maxTasks = Number(process.env.CHAOS_MAX_TASKS ?? "Infinity");
const retry = process.env.CHAOS_RETRY === "1";

let stopping = false;
process.once("SIGTERM", () => {
  stopping = true;
});
const store = isServerLocation(location) ? new PostgresStore({ url: location }) : undefined;
const client = new QueueClient(store === undefined ? { path: location } : { store });
let enqueued = 0;
const errors: ReportedError[] = [];
process.stdout.write("ready\n");
while (!stopping && enqueued < maxTasks) {
  const size = Math.min(batch, maxTasks - enqueued);
  const items = Array.from({ length: size }, (_, offset) => ({
    type: "work",
    payload: { producer: process.pid, n: enqueued + offset },
    options: { maxAttempts, ...(retry ? { idempotencyKey: `${process.pid}-${enqueued + offset}` } : {}) },
  }));
  for (let tries = 1; ; tries++) {
    try {
      await client.enqueueMany(items);
      enqueued += size;
      break;
    } catch (error) {
      errors.push(describeError(error));
      if (!retry) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** tries)));
    }
  }
  if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await client.close();
await store?.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, enqueued, errors })}\n`);
