// Child process for the soak: a worker with no-op tasks that prints a JSON line with its memory
// (RSS and heap) and completed count every SOAK_REPORT_MS, and a last one after SIGTERM stops it.
import { Worker } from "@queue/worker-engine";

const path = process.env.SOAK_DB;
if (path === undefined) throw new Error("SOAK_DB is not set");
const errors: string[] = [];
const worker = new Worker({
  path,
  concurrency: Number(process.env.SOAK_CONCURRENCY ?? "64"),
  pollIntervalMs: 20,
  strategy: "fifo",
  handleSignals: true,
  handlers: { work: () => undefined },
});
worker.on("error", (error) => errors.push(`${(error as { code?: string }).code ?? "?"}: ${(error as Error).message}`));
const report = (final: boolean) => {
  const memory = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ final, completed: worker.stats.completed, rss: memory.rss, heapUsed: memory.heapUsed, errors: final ? errors : errors.length })}\n`,
  );
};
const timer = setInterval(() => report(false), Number(process.env.SOAK_REPORT_MS ?? "500"));
worker.once("stopped", () => {
  clearInterval(timer);
  report(true);
});
await worker.start();
