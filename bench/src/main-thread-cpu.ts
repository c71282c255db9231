// How much of the application's thread a burst of queued runs takes, with the manager writing on
// that thread and from a database thread of its own: 10,000 runs of a 1 ms async task at
// concurrency 32 per round, the two alternating round by round. Prints, for each, the median
// runs/s and the main thread's CPU time per run (Linux: the thread's own schedstat; elsewhere the
// whole process's CPU time, which then includes the database thread).
//   node scripts/pnpm.mjs --filter @queue/bench exec tsx src/main-thread-cpu.ts [rounds]
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { QueuedTaskManager } from "@queue/integration";

const RUNS = 10_000;
const rounds = Number(process.argv[2] ?? 5);
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const perThread = existsSync(schedstat);

/** CPU time of the main thread (or of the process), in microseconds. */
function cpuMicros(): number {
  if (perThread) return Number(readFileSync(schedstat, "utf8").split(" ")[0]) / 1000;
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

let counter = 0;
async function round(databaseThread: boolean): Promise<{ perSecond: number; cpuPerRun: number }> {
  const dir = mkdtempSync(join(tmpdir(), "queue-cpu-"));
  const manager = new QueuedTaskManager({
    path: join(dir, "queue.db"),
    databaseThread,
    embeddedWorker: { concurrency: 32, pollIntervalMs: 5 },
  });
  manager.registerModule("work", () => new Promise((resolve) => setTimeout(resolve, 1)));
  // The worker (and the thread) start before anything is measured.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cpu = cpuMicros();
  const begin = performance.now();
  await Promise.all(Array.from({ length: RUNS }, () => manager.startTask({ id: `run-${++counter}`, moduleId: "work", parameters: {} })));
  await manager.waitAll();
  const elapsed = performance.now() - begin;
  const cpuPerRun = (cpuMicros() - cpu) / RUNS;
  await manager.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSecond: (RUNS / elapsed) * 1000, cpuPerRun };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const results = {
  "this thread": [] as { perSecond: number; cpuPerRun: number }[],
  "database thread": [] as { perSecond: number; cpuPerRun: number }[],
};
for (let n = 0; n < rounds; n++) {
  results["this thread"].push(await round(false));
  results["database thread"].push(await round(true));
}
console.log(`${rounds} rounds of ${RUNS} runs each; CPU: ${perThread ? "main thread only" : "whole process"}`);
for (const [writes, measured] of Object.entries(results)) {
  const perSecond = median(measured.map((m) => m.perSecond));
  const cpu = median(measured.map((m) => m.cpuPerRun));
  console.log(`writes on ${writes}: ${Math.round(perSecond).toLocaleString("en-US")} runs/s, ${cpu.toFixed(1)} µs of CPU per run`);
}
