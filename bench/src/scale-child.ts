// A process for the scale scenario, on one file built by buildScaleFile(); answers ScaleRequests
// over IPC, one at a time. Tasks it claims or drains are inserted as runnable just before and
// deleted just after (untimed), so the table keeps the size it was built with.
import { performance } from "node:perf_hooks";
import { openQueueDatabase } from "@queue/core";
import { cleanup } from "@queue/maintenance";
import { QueueMetrics } from "@queue/observability";
import { claim, completeMany, Worker } from "@queue/worker-engine";
import { maxRssKiB } from "./child.js";
import { type Figure, SCALE_TYPES, type ScaleReply, type ScaleRequest } from "./operations.js";

const [path] = process.argv.slice(2);
const DAY = 86_400_000;
const db = openQueueDatabase({ path: path as string });
const handlers = Object.fromEntries(SCALE_TYPES.map((type) => [type, () => undefined]));
const metrics = new QueueMetrics(db, { windowMs: 5 * 60_000 });
const lastBuilt = (db.statement<{ id: number }>("SELECT max(id) AS id FROM tasks").get()?.id ?? 0) as number;
// A Worker's own resolved defaults (strategy, lease, the types it handles, capabilities).
const options = new Worker({ db, handlers }).options;

function time(run: () => void): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

/** Adds `count` runnable tasks of the file's types, due now. */
function addRunnable(count: number): void {
  const insert = db.statement(`INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES (?, '{"n":1}', ?, ?, ?)`);
  db.transactionSync(() => {
    const now = Date.now();
    for (let i = 0; i < count; i++) insert.run(SCALE_TYPES[i % SCALE_TYPES.length], now - 1_000, now, now);
  });
}

/** Removes every task added since the file was built. */
function removeAdded(): void {
  db.transactionSync(() => db.statement("DELETE FROM tasks WHERE id > ?").run(lastBuilt));
}

/** One claim transaction as a Worker's tick makes it; the tasks are then completed, untimed. */
function claims(count: number, warmup: number, batch: number): number[] {
  addRunnable((count + warmup) * batch);
  const request = {
    workerId: "bench-claim",
    strategy: options.strategy,
    leaseMs: options.leaseMs,
    limit: batch,
    types: options.types,
    capabilities: options.capabilities,
  };
  const samples: number[] = [];
  for (let round = 0; round < warmup + count; round++) {
    let claimed: ReturnType<typeof claim>["claimed"] = [];
    const elapsed = time(() => {
      claimed = db.transactionSync(() => claim(db, request)).claimed;
    });
    if (claimed.length !== batch) throw new Error(`a claim took ${claimed.length} of ${batch} tasks`);
    if (round >= warmup) samples.push(elapsed);
    db.transactionSync(() =>
      completeMany(
        db,
        claimed.map(({ lease }) => ({ lease, result: "null" })),
      ),
    );
  }
  removeAdded();
  return samples;
}

async function drain(count: number, concurrency: number): Promise<number> {
  addRunnable(count);
  const worker = new Worker({ db, concurrency, handlers });
  const started = performance.now();
  const stats = await worker.runUntilEmpty();
  const seconds = (performance.now() - started) / 1000;
  if (stats.completed !== count) throw new Error(`the worker drained ${stats.completed} of ${count} tasks`);
  removeAdded();
  return count / seconds;
}

async function cleanupFigures(rows: number): Promise<Figure[]> {
  const old = Math.round(rows * 0.98 * (20 / 30));
  const started = performance.now();
  const report = await cleanup(db, { completedOlderThanMs: 10 * DAY, batchSize: 500 });
  const seconds = (performance.now() - started) / 1000;
  const archived = performance.now();
  const archiveReport = await cleanup(db, { completedOlderThanMs: 5 * DAY, batchSize: 500, archive: true });
  const archiveSeconds = (performance.now() - archived) / 1000;
  return [
    {
      what: `cleanup of completed tasks older than 10 days (about ${old.toLocaleString("en-US")})`,
      value: report.completed / seconds,
      unit: "rows/s",
      detail: `${report.completed.toLocaleString("en-US")} rows in ${report.batches} batches of 500, ${seconds.toFixed(1)} s`,
    },
    {
      what: "cleanup into the archive table",
      value: archiveReport.archived / archiveSeconds,
      unit: "rows/s",
      detail: `${archiveReport.archived.toLocaleString("en-US")} rows, ${archiveSeconds.toFixed(1)} s`,
    },
  ];
}

async function answer(request: ScaleRequest): Promise<ScaleReply> {
  switch (request.do) {
    case "claims":
      return { samples: claims(request.count, request.warmup, request.batch) };
    case "drain":
      return { tasksPerSecond: await drain(request.count, request.concurrency) };
    case "snapshots": {
      await metrics.snapshot();
      const samples: number[] = [];
      for (let n = 0; n < request.count; n++) {
        const started = performance.now();
        await metrics.snapshot();
        samples.push(performance.now() - started);
      }
      return { samples };
    }
    case "cleanup":
      return { figures: await cleanupFigures(request.rows) };
    case "exit":
      db.close();
      return { maxRssKiB: maxRssKiB() };
  }
}

const reply = (message: ScaleReply) => process.send?.(message);
process.on("message", (request: ScaleRequest) => {
  answer(request).then(
    (message) => {
      reply(message);
      if (request.do === "exit") process.disconnect();
    },
    (error: unknown) => {
      process.stderr.write(`scale-child: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
});
reply({ ready: true });
