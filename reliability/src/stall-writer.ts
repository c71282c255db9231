// Child process that writes steadily (one awaited enqueue after another) for STALL_MS and reports the
// longest single write: how long a writer was held up by whatever else used the database meanwhile.
import { QueueClient } from "@queue/client";

const path = process.env.STALL_DB;
if (path === undefined) throw new Error("STALL_DB is not set");
const durationMs = Number(process.env.STALL_MS ?? "3000");
const client = new QueueClient({ path });
process.stdout.write("ready\n");
let writes = 0;
let longestMs = 0;
const errors: string[] = [];
const end = Date.now() + durationMs;
while (Date.now() < end) {
  const started = performance.now();
  try {
    await client.enqueue("stall-probe", { n: writes, pad: "w".repeat(400) });
    writes += 1;
  } catch (error) {
    errors.push((error as Error).message);
  }
  longestMs = Math.max(longestMs, performance.now() - started);
}
await client.close();
process.stdout.write(`${JSON.stringify({ writes, longestMs: Math.round(longestMs), errors })}\n`);
