// Child process: enqueues "work" tasks in small batches until SIGTERM, then prints a JSON report
// (how many tasks it enqueued, and every error). Settings: CHAOS_DB, CHAOS_BATCH,
// CHAOS_PRODUCE_INTERVAL_MS, CHAOS_MAX_ATTEMPTS, CHAOS_MAX_TASKS (stop after this many; default no limit).
import { QueueClient } from "@queue/client";

const path = process.env.CHAOS_DB;
if (path === undefined) throw new Error("CHAOS_DB is not set");
const batch = Number(process.env.CHAOS_BATCH ?? "10");
const intervalMs = Number(process.env.CHAOS_PRODUCE_INTERVAL_MS ?? "25");
const maxAttempts = Number(process.env.CHAOS_MAX_ATTEMPTS ?? "25");
const maxTasks = Number(process.env.CHAOS_MAX_TASKS ?? "Infinity");

let stopping = false;
process.once("SIGTERM", () => {
  stopping = true;
});
const client = new QueueClient({ path });
let enqueued = 0;
const errors: { code?: string; message: string }[] = [];
process.stdout.write("ready\n");
while (!stopping && enqueued < maxTasks) {
  const size = Math.min(batch, maxTasks - enqueued);
  const items = Array.from({ length: size }, (_, offset) => ({
    type: "work",
    payload: { producer: process.pid, n: enqueued + offset },
    options: { maxAttempts },
  }));
  try {
    await client.enqueueMany(items);
    enqueued += size;
  } catch (error) {
    errors.push({ code: (error as { code?: string }).code, message: (error as Error).message });
  }
  if (intervalMs > 0) await new Promise((resolve) => setTimeout(resolve, intervalMs));
}
await client.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, enqueued, errors })}\n`);
