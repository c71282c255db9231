// Child process for load runs: a worker whose tasks each wait a few milliseconds (I/O-like work).
// Prints "ready" once started; on SIGTERM stops gracefully and prints a JSON report: how many tasks
// it claimed and completed, and every error event. Settings: LOAD_DB, LOAD_CONCURRENCY, LOAD_WORK_MS.
import { Worker } from "@queue/worker-engine";

const path = process.env.LOAD_DB;
if (path === undefined) throw new Error("LOAD_DB is not set");
const workMs = Number(process.env.LOAD_WORK_MS ?? "3");
const errors: { code?: string; message: string }[] = [];
const worker = new Worker({
  path,
  concurrency: Number(process.env.LOAD_CONCURRENCY ?? "4"),
  pollIntervalMs: 50,
  strategy: "fifo",
  handleSignals: true,
  handlers: { work: () => new Promise((resolve) => setTimeout(resolve, workMs)) },
});
worker.on("error", (error) => errors.push({ code: (error as { code?: string }).code, message: (error as Error).message }));
worker.once("stopped", () => {
  process.stdout.write(
    `${JSON.stringify({ pid: process.pid, claimed: worker.stats.claimed, completed: worker.stats.completed, errors })}\n`,
  );
});
await worker.start();
process.stdout.write("ready\n");
