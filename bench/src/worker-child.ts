// A benchmark worker process: opens the file and builds its Worker, says "ready", starts on "go"
// (so process start-up is not timed), runs until the queue is empty, and reports its stats.
import { createInterface } from "node:readline";
import { Worker } from "@queue/worker-engine";

const [path, concurrency] = process.argv.slice(2);
const worker = new Worker({
  path: path as string,
  concurrency: Number(concurrency),
  pollIntervalMs: 5,
  handlers: { bench: () => undefined },
});
const errors: string[] = [];
worker.on("error", (error) => errors.push(String(error)));
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
for await (const line of lines) if (line.trim() === "go") break;
lines.close();
const stats = await worker.runUntilEmpty();
process.stdout.write(`${JSON.stringify({ stats, errors })}\n`);
