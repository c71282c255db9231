// Child process for load runs: enqueues LOAD_COUNT tasks, LOAD_IN_FLIGHT enqueue() calls at a time
// (group-committed), then prints a JSON report: how many were enqueued, and every error.
import { QueueClient } from "@queue/client";

const path = process.env.LOAD_DB;
if (path === undefined) throw new Error("LOAD_DB is not set");
const count = Number(process.env.LOAD_COUNT ?? "1000");
const inFlight = Number(process.env.LOAD_IN_FLIGHT ?? "20");
const client = new QueueClient({ path });
let enqueued = 0;
const errors: { code?: string; message: string }[] = [];
for (let start = 0; start < count; start += inFlight) {
  const calls = Array.from({ length: Math.min(inFlight, count - start) }, (_, offset) =>
    client.enqueue("work", { producer: process.pid, n: start + offset }).then(
      () => {
        enqueued += 1;
      },
      (error: unknown) => void errors.push({ code: (error as { code?: string }).code, message: (error as Error).message }),
    ),
  );
  await Promise.all(calls);
}
await client.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, enqueued, errors })}\n`);
