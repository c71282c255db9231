// A benchmark worker process: opens the file (or, for a postgres:// URL, a PostgresStore on that
// schema, its pool's connections opened) and builds its Worker, says "ready", starts on "go" (so
// process start-up is not timed), runs until the queue is empty, and reports its stats and when it
// finished (so process tear-down is not timed either).
import { createInterface } from "node:readline";
import { isServerLocation, type QueueStore } from "@queue/core";
import { Worker } from "@queue/worker-engine";

const [location, concurrency] = process.argv.slice(2) as [string, string];
// Loaded only for PostgreSQL, so that a SQLite worker's process (and its peak RSS) holds no pg driver.
const store: QueueStore | undefined = isServerLocation(location)
  ? await (await import("./postgres-ops.js")).openPostgresStore(location)
  : undefined;
let executions = 0;
const worker = new Worker({
  ...(store === undefined ? { path: location } : { store }),
  concurrency: Number(concurrency),
  pollIntervalMs: 5,
  handlers: {
    bench: () => {
      executions += 1;
    },
  },
});
const errors: string[] = [];
worker.on("error", (error) => errors.push(String(error)));
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === "go") break;
lines.close();
const stats = await worker.runUntilEmpty();
// When the work was done, before the process tears down, on the clock the parent reads too.
const finishedAt = Date.now();
await store?.close();
process.stdout.write(`${JSON.stringify({ stats, errors, finishedAt, executions })}\n`);
