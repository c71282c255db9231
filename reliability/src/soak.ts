// The soak: a million tasks through worker processes while the producer keeps the queue fed and
// cleans up finished rows (memory must stay flat), then a long chaos run and the full load run.
// Prints a summary; exits non-zero if any check fails. Sizes by environment:
//   SOAK_TASKS (1,000,000), SOAK_WORKERS (2), SOAK_BATCH (10,000), SOAK_BACKLOG (50,000),
//   SOAK_CLEANUP_EVERY (200,000), SOAK_RSS_RATIO (1.2), SOAK_CHAOS_MS (60,000), and the
//   CHAOS_* and LOAD_* variables of the chaos and load runs (load defaults to 32 + 8 here).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { cleanup } from "@queue/maintenance";
import { makeTempDir, removeTempDirs, spawnTypeScript } from "@queue/test-support";
import Database from "better-sqlite3";
import { chaosOptionsFromEnv, runChaos } from "./chaos-supervisor.js";
import { describeLoad, loadOptionsFromEnv, runLoad } from "./load-run.js";

const env = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
const log = (line: string) => console.log(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Sample {
  readonly final: boolean;
  readonly completed: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly errors: number | string[];
}

async function millionTasks(dir: string): Promise<{ lines: string[]; failures: string[] }> {
  const total = env("SOAK_TASKS", 1_000_000);
  const workerCount = env("SOAK_WORKERS", 2);
  const batch = env("SOAK_BATCH", 10_000);
  const backlog = env("SOAK_BACKLOG", 50_000);
  const cleanupEvery = env("SOAK_CLEANUP_EVERY", 200_000);
  const ratio = env("SOAK_RSS_RATIO", 1.2);
  const path = join(dir, "soak.db");
  const client = new QueueClient({ path });
  const workers = Array.from({ length: workerCount }, () => {
    const samples: Sample[] = [];
    const child = spawnTypeScript(fileURLToPath(new URL("./soak-worker.ts", import.meta.url)), [], { env: { SOAK_DB: path } });
    let buffer = "";
    child.child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) if (line.startsWith("{")) samples.push(JSON.parse(line));
    });
    return { child, samples };
  });
  const pending = client.db.statement<{ n: number }>("SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'leased')");
  const started = Date.now();
  let enqueued = 0;
  let cleaned = 0;
  let nextCleanup = cleanupEvery;
  let nextLog = 100_000;
  // Baseline, middle and end RSS of each worker, at the first sample past those totals.
  const marks = [Math.min(100_000, total / 10), total / 2];
  const rssAt: number[][] = workers.map(() => []);
  for (;;) {
    const inQueue = pending.get()?.n ?? 0;
    const done = enqueued - inQueue;
    for (let index = 0; index < marks.length; index++) {
      if (done >= (marks[index] as number)) {
        workers.forEach((worker, w) => {
          const row = rssAt[w] as number[];
          if (row[index] === undefined) row[index] = worker.samples.at(-1)?.rss ?? 0;
        });
      }
    }
    if (done >= nextLog) {
      log(`${done} tasks done, ${inQueue} in the queue, ${Math.round(done / ((Date.now() - started) / 1000))} tasks/s`);
      nextLog += 100_000;
    }
    if (done >= nextCleanup) {
      const report = await cleanup(client.db, { completedOlderThanMs: 0, batchSize: 5_000 });
      cleaned += report.completed;
      nextCleanup += cleanupEvery;
    }
    if (enqueued >= total && inQueue === 0) break;
    if (enqueued < total && inQueue < backlog) {
      const size = Math.min(batch, total - enqueued);
      await client.enqueueMany(Array.from({ length: size }, (_, n) => ({ type: "work", payload: { n: enqueued + n } })));
      enqueued += size;
    } else await sleep(20);
  }
  const elapsedMs = Date.now() - started;
  for (const worker of workers) worker.child.child.kill("SIGTERM");
  await Promise.all(workers.map((worker) => worker.child.done));
  const remaining = client.db.statement<{ status: string; n: number }>("SELECT status, count(*) AS n FROM tasks GROUP BY status").all();
  await client.close();
  const check = new Database(path, { readonly: true });
  const integrity = check.pragma("integrity_check", { simple: true });
  check.close();

  const failures: string[] = [];
  const lines = [
    `1M soak: ${enqueued} tasks enqueued in batches of ${batch} (backlog kept under ${backlog}), all done in ${(elapsedMs / 1000).toFixed(1)} s = ${Math.round((enqueued / elapsedMs) * 1000)} tasks/s by ${workerCount} worker processes; ${cleaned} completed rows cleaned up on the way; integrity ${integrity}`,
  ];
  let completed = 0;
  workers.forEach((worker, w) => {
    const last = worker.samples.at(-1);
    const [base = 0, mid = 0] = rssAt[w] as number[];
    const end = last?.rss ?? 0;
    completed += last?.completed ?? 0;
    lines.push(
      `  worker ${w + 1}: ${last?.completed} tasks; RSS first ${mb(worker.samples[0]?.rss ?? 0)}, after ${marks[0]} ${mb(base)}, after ${marks[1]} ${mb(mid)}, end ${mb(end)} (end/after-${marks[0]} ${(end / base).toFixed(2)}); heap end ${mb(last?.heapUsed ?? 0)}`,
    );
    if (!(last?.final === true)) failures.push(`worker ${w + 1} did not stop cleanly: ${worker.child.child.exitCode}`);
    if (end > base * ratio) failures.push(`worker ${w + 1} RSS grew from ${mb(base)} to ${mb(end)} (more than ${ratio}x)`);
    const errors = Array.isArray(last?.errors) ? last.errors : [];
    if (errors.length > 0) failures.push(`worker ${w + 1} reported ${errors.length} errors, first: ${errors[0]}`);
  });
  if (completed !== total) failures.push(`workers completed ${completed} tasks, expected ${total}`);
  const leftover = remaining.filter((row) => row.status !== "completed");
  if (leftover.length > 0) failures.push(`tasks left unfinished: ${JSON.stringify(leftover)}`);
  if (integrity !== "ok") failures.push(`integrity_check: ${integrity}`);
  return { lines, failures };
}

const summary: string[] = [];
const failures: string[] = [];
try {
  log("phase 1: a million tasks");
  const soak = await millionTasks(makeTempDir("soak-"));
  summary.push(...soak.lines);
  failures.push(...soak.failures);

  const chaosMs = env("SOAK_CHAOS_MS", 60_000);
  log(`phase 2: chaos for ${chaosMs} ms`);
  const chaosOptions = { ...chaosOptionsFromEnv(makeTempDir("soak-chaos-")), durationMs: chaosMs, log };
  const chaos = await runChaos(chaosOptions);
  summary.push(
    `chaos (${chaosOptions.workers} workers, ${chaosOptions.producers} producers, ${chaosMs} ms, a kill every ~${chaosOptions.killIntervalMs} ms): enqueued ${chaos.enqueued}, completed ${chaos.completed}, dead-lettered ${chaos.deadLettered}, killed ${chaos.killed} (${chaos.killedWhileWorking} mid-work), workers started ${chaos.workersStarted} (${chaos.cliWorkersStarted} via queue work), executions ${chaos.executions}, re-executed after kill ${chaos.reExecutedAfterKill} (${chaos.tasksReExecuted} tasks), integrity ${chaos.integrity}`,
  );
  failures.push(...chaos.problems.map((problem) => `chaos: ${problem}`));

  const loadOptions = {
    ...loadOptionsFromEnv(makeTempDir("soak-load-")),
    workers: env("LOAD_WORKERS", 32),
    producers: env("LOAD_PRODUCERS", 8),
    tasks: env("LOAD_TASKS", 20_000),
  };
  log(`phase 3: load with ${loadOptions.workers} workers and ${loadOptions.producers} producers`);
  const load = await runLoad(loadOptions);
  summary.push(describeLoad(load));
  failures.push(...load.problems.map((problem) => `load: ${problem}`));
} catch (error) {
  failures.push(`the soak stopped: ${(error as Error).stack ?? String(error)}`);
} finally {
  removeTempDirs();
}

console.log("\n=== soak summary ===");
for (const line of summary) console.log(line);
console.log(failures.length === 0 ? "ALL CHECKS PASSED" : `FAILED (${failures.length}):\n- ${failures.join("\n- ")}`);
process.exitCode = failures.length === 0 ? 0 : 1;
