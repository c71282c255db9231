// The queue's side of each comparison, through its public API. Each returns operations/second.
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import { typeScriptArgs } from "./child.js";
import { fillQueue, PAYLOAD } from "./raw.js";

const payload = JSON.parse(PAYLOAD) as unknown;

/** `await client.enqueue()` one after another. */
export async function enqueueAwaited(path: string, rows: number): Promise<number> {
  const client = new QueueClient({ path });
  const started = performance.now();
  for (let i = 0; i < rows; i++) await client.enqueue("bench", payload);
  const elapsed = performance.now() - started;
  await client.close();
  return (rows / elapsed) * 1000;
}

/** `inFlight` enqueue() calls outstanding at all times; each one started as another resolves. */
export async function enqueueConcurrent(path: string, rows: number, inFlight: number): Promise<number> {
  const client = new QueueClient({ path });
  let started = 0;
  const lane = async () => {
    while (started < rows) {
      started += 1;
      await client.enqueue("bench", payload);
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = performance.now() - begin;
  await client.close();
  return (rows / elapsed) * 1000;
}

/** `enqueueMany` with `batch` items per call. */
export async function enqueueManyBatches(path: string, rows: number, batch: number): Promise<number> {
  const client = new QueueClient({ path });
  const items = Array.from({ length: batch }, () => ({ type: "bench", payload }));
  const begin = performance.now();
  for (let done = 0; done < rows; done += batch) await client.enqueueMany(items.slice(0, Math.min(batch, rows - done)));
  const elapsed = performance.now() - begin;
  await client.close();
  return (rows / elapsed) * 1000;
}

/** A Worker in this process draining a pre-filled queue of no-op tasks. */
export async function processInProcess(path: string, rows: number, concurrency: number): Promise<number> {
  fillQueue(path, rows);
  const db = openQueueDatabase({ path });
  const worker = new Worker({ db, concurrency, handlers: { bench: () => undefined } });
  const begin = performance.now();
  const stats = await worker.runUntilEmpty();
  const elapsed = performance.now() - begin;
  db.close();
  if (stats.completed !== rows) throw new Error(`in-process worker completed ${stats.completed} of ${rows}`);
  return (rows / elapsed) * 1000;
}

const WORKER_CHILD = fileURLToPath(new URL("./worker-child.ts", import.meta.url));

/** `processes` worker processes draining a pre-filled queue; timed from "go" to the last one's work done. */
export async function processMultiProcess(path: string, rows: number, processes: number, concurrency: number): Promise<number> {
  fillQueue(path, rows);
  return drainInProcesses(path, rows, processes, concurrency);
}

/**
 * `processes` worker processes (worker-child.ts) draining the `rows` tasks already queued at
 * `location` (a SQLite file, or a postgres:// URL with its schema); tasks/s from "go" to the last
 * one's work done. Throws unless every task ran exactly once.
 */
export async function drainInProcesses(location: string, rows: number, processes: number, concurrency: number): Promise<number> {
  const children = Array.from({ length: processes }, () => {
    const child = spawn(process.execPath, typeScriptArgs(WORKER_CHILD, [location, String(concurrency)]), {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const ready = new Promise<void>((resolve) => {
      const check = () => (output.includes("ready\n") ? resolve() : setTimeout(check, 5));
      check();
    });
    const done = new Promise<{ stats: { completed: number }; errors: string[]; finishedAt: number; executions: number }>(
      (resolve, reject) => {
        child.once("close", (code) => {
          if (code !== 0) reject(new Error(`worker process exited with ${code}`));
          else resolve(JSON.parse(output.slice(output.indexOf("ready\n") + 6)));
        });
      },
    );
    return { child, ready, done };
  });
  await Promise.all(children.map((entry) => entry.ready));
  const begin = Date.now();
  for (const { child } of children) child.stdin.write("go\n");
  const reports = await Promise.all(children.map((entry) => entry.done));
  const elapsed = Math.max(...reports.map((report) => report.finishedAt)) - begin;
  const completed = reports.reduce((sum, report) => sum + report.stats.completed, 0);
  const errors = reports.flatMap((report) => report.errors);
  // Every task ran exactly once: handler executions across the processes, not only completions.
  const executions = reports.reduce((sum, report) => sum + report.executions, 0);
  if (completed !== rows || executions !== rows || errors.length > 0)
    throw new Error(`worker processes completed ${completed} of ${rows} in ${executions} executions; errors: ${errors.join("; ")}`);
  return (rows / elapsed) * 1000;
}
