// A process for the latency scenario. "worker": a Worker on its default options records, for each
// task, how long after its enqueue() call its handler started, until it has seen `count` tasks.
// "both": the same Worker plus a QueueClient in this one process, enqueueing at `rate` per second.
// The location is a SQLite file, or a postgres:// URL with its schema (then both use one
// PostgresStore, its pool's connections opened first). Prints "ready" once the worker has
// started, then one JSON report (LatencyReport).
import { performance } from "node:perf_hooks";
import { QueueClient } from "@queue/client";
import { isServerLocation, type QueueStore } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import { maxRssKiB } from "./child.js";
import { enqueueAtRate, type LatencyPayload, type LatencyReport, wallClockMs } from "./latency.js";

const [mode, location, countText, rateText] = process.argv.slice(2) as [string, string, string, string];
// Loaded only for PostgreSQL, so that a SQLite worker's process (and its peak RSS) holds no pg driver.
const store: QueueStore | undefined = isServerLocation(location)
  ? await (await import("./postgres-ops.js")).openPostgresStore(location)
  : undefined;
const where = store === undefined ? { path: location } : { store };
const count = Number(countText);
const rate = Number(rateText);
const latencies: (number | null)[] = [];
const errors: string[] = [];
let seen = 0;
let allSeen: () => void = () => undefined;
const done = new Promise<void>((resolve) => {
  allSeen = resolve;
});
const worker = new Worker({
  ...where,
  handlers: {
    latency: (payload: LatencyPayload) => {
      latencies[payload.n] = wallClockMs() - payload.at;
      seen += 1;
      if (seen === count) allSeen();
    },
  },
});
worker.on("error", (error) => errors.push(String(error)));
await worker.start();
process.stdout.write("ready\n");
const started = performance.now();
if (mode === "both") {
  const client = new QueueClient(where);
  await enqueueAtRate(client, count, rate);
  await client.close();
}
// Ends anyway well after the last task was due, so a lost task shows as missing, not as a hang.
const deadline = setTimeout(allSeen, 30_000 + (count / rate) * 1000);
await done;
clearTimeout(deadline);
await worker.stop();
await store?.close();
const { concurrency, pollIntervalMs, leaseMs, heartbeatMs, strategy } = worker.options;
const report: LatencyReport = {
  latencies: Array.from({ length: count }, (_, n) => latencies[n] ?? null),
  errors,
  maxRssKiB: maxRssKiB(),
  elapsedMs: performance.now() - started,
  options: { concurrency, pollIntervalMs, leaseMs, heartbeatMs, strategy: strategy.name },
};
process.stdout.write(`${JSON.stringify(report)}\n`);
