// A process for the mixed scenario. "producer": on "go", keeps `inFlight` enqueue() calls
// outstanding until `durationMs` have passed. "worker": on "go", starts a Worker at `concurrency`
// (other options default) that records the id of every task it runs; on "stop", stops it
// gracefully. Prints "ready" first, then one JSON report (MixedProducerReport or MixedWorkerReport).
import { performance } from "node:perf_hooks";
import { QueueClient } from "@queue/client";
import { Worker } from "@queue/worker-engine";
import { maxRssKiB, stdinLines } from "./child.js";
import type { MixedProducerReport, MixedWorkerReport } from "./mixed.js";

const [mode, path, numberText, durationText] = process.argv.slice(2);
const lines = stdinLines();
const errors: string[] = [];

if (mode === "producer") {
  const inFlight = Number(numberText);
  const client = new QueueClient({ path: path as string });
  process.stdout.write("ready\n");
  while ((await lines.next()) !== "go");
  const started = performance.now();
  const end = started + Number(durationText);
  let enqueued = 0;
  const lane = async () => {
    while (performance.now() < end) {
      try {
        await client.enqueue("mixed", { producer: process.pid });
        enqueued += 1;
      } catch (error) {
        errors.push(String(error));
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsedMs = performance.now() - started;
  await client.close();
  const report: MixedProducerReport = { enqueued, elapsedMs, errors, maxRssKiB: maxRssKiB() };
  process.stdout.write(`${JSON.stringify(report)}\n`);
} else {
  const executions: number[] = [];
  const worker = new Worker({
    path: path as string,
    concurrency: Number(numberText),
    handlers: {
      mixed: (_payload, context) => {
        executions.push(context.task.id);
      },
    },
  });
  worker.on("error", (error) => errors.push(String(error)));
  process.stdout.write("ready\n");
  while ((await lines.next()) !== "go");
  await worker.start();
  while ((await lines.next()) !== "stop");
  await worker.stop();
  const report: MixedWorkerReport = { executions, errors, maxRssKiB: maxRssKiB() };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
process.stdin.destroy();
