import { fork } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { extname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { type EnqueueItem, QueueClient } from "@queue/client";
import {
  DATABASE_PATH_ENV,
  FINAL_TASK_STATUSES,
  isServerLocation,
  openQueueStore,
  type QueueStore,
  redactLocation,
  SqliteStore,
} from "@queue/core";
import { healthSummary, QueueMetrics } from "@queue/observability";
import { QueueValidator } from "@queue/validation";
import { requestStop } from "../child-stop.js";
import { color, databasePath } from "../context.js";
import { UsageError } from "../errors.js";
import { queueCommand } from "../invocation.js";
import { startProgress } from "../progress.js";

export interface DemoOptions {
  readonly db?: string;
  readonly tasks: number;
  readonly processes: number;
  readonly json: boolean;
}

const HANDLERS = fileURLToPath(new URL(`./handlers${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

/** A realistic mix: mostly quick work, some delayed, some flaky (retried), some broken (dead-lettered). */
function demoTasks(count: number): EnqueueItem<Record<string, unknown>>[] {
  const items: EnqueueItem<Record<string, unknown>>[] = [];
  for (let n = 0; n < count; n++) {
    const kind = n % 20;
    if (kind < 9) items.push({ type: "send-email", payload: { to: `user${n}@example.com` }, options: { priority: 1 } });
    else if (kind < 15) items.push({ type: "resize-image", payload: { width: 200 + (n % 5) * 100 }, options: { priority: 5 } });
    else if (kind < 17)
      items.push({
        type: "generate-report",
        payload: { month: `2030-${String((n % 12) + 1).padStart(2, "0")}` },
        options: { priority: 9, delayMs: 1_500 },
      });
    else if (kind < 19) items.push({ type: "call-webhook", payload: { event: n }, options: { maxAttempts: 3 } });
    else items.push({ type: "import-legacy", payload: { file: `legacy-${n}.csv` }, options: { maxAttempts: 2 } });
  }
  items.push({ type: "send-email", payload: { to: "ada@example.com" }, options: { idempotencyKey: "welcome-ada" } });
  items.push({ type: "send-email", payload: { to: "ada@example.com" }, options: { idempotencyKey: "welcome-ada" } });
  return items;
}

export async function runDemo(options: DemoOptions): Promise<number> {
  const say = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  const path = demoLocation(options);
  const server = isServerLocation(path);
  if (!server) {
    // The demo's summary and its end condition count every task in the file: it needs a fresh one.
    if (existsSync(path)) throw new UsageError(`The demo creates a fresh queue file, and ${path} exists; give --db a new path.`);
    mkdirSync(join(path, ".."), { recursive: true });
  }
  const store = openQueueStore({ location: path });
  const client = new QueueClient({ store });
  const shown = server ? store.location : relative(process.cwd(), path) || path;
  try {
    if (server) await assertEmpty(store);
  } catch (error) {
    await client.close();
    await store.close();
    throw error;
  }
  say(`${color.bold("queue demo")}: ${server ? "an empty queue on PostgreSQL at" : "a fresh queue file at"} ${color.cyan(shown)}\n`);

  const started = Date.now();
  const results = await client.enqueueMany(demoTasks(options.tasks));
  const total = results.filter((result) => result.created).length;
  say(`Enqueued ${total} tasks in one transaction (${results.length - total} duplicate idempotency key returned the existing task):`);
  say(
    "  send-email and resize-image (quick), generate-report (delayed 1.5 s), call-webhook (fails once, then retried), import-legacy (always fails)\n",
  );

  say(`Starting ${options.processes} worker processes (queue work --concurrency 8)...`);
  const progress = startProgress("tasks finished", { json: options.json, total });
  const workers = Array.from({ length: options.processes }, () =>
    // A server's URL reaches the workers in their environment, not on a command line others can read.
    fork(process.argv[1] as string, ["work", "--handlers", HANDLERS, ...(server ? [] : ["--db", path]), "--concurrency", "8", "--json"], {
      stdio: ["ignore", "ignore", "ignore", "ipc"],
      ...(server ? { env: { ...process.env, [DATABASE_PATH_ENV]: path } } : {}),
    }),
  );
  const exited = workers.map((worker) => new Promise<void>((resolve) => worker.once("exit", () => resolve())));
  // Interrupted: stop the worker processes too (they release their leases), then exit as signalled.
  const interrupted = (signal: NodeJS.Signals) => {
    progress.stop();
    for (const worker of workers) requestStop(worker, "SIGTERM");
    void Promise.all(exited).then(() => process.exit(signal === "SIGINT" ? 130 : 143));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const finalCount = () => client.store.countTasksByStatus();
  const deadline = Date.now() + 55_000;
  let counts = await finalCount();
  while (FINAL_TASK_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0) < total && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    counts = await finalCount();
    progress.update(FINAL_TASK_STATUSES.reduce((sum, status) => sum + (counts[status] ?? 0), 0));
  }
  progress.stop();
  process.off("SIGINT", interrupted);
  process.off("SIGTERM", interrupted);
  for (const worker of workers) requestStop(worker, "SIGTERM");
  await Promise.all(exited);
  const seconds = (Date.now() - started) / 1000;

  const snapshot = await new QueueMetrics(store, { windowMs: 10 * 60_000 }).snapshot();
  const health = healthSummary(snapshot);
  const retried = await countRetried(client.store);
  // The validator checks a SQLite file (pragmas, integrity, the schema); a server has its own tools.
  const validation = store instanceof SqliteStore ? (await new QueueValidator(store.db).validateAll()).status : "skipped";
  const summary = {
    path: server ? store.location : path,
    backend: store.backend,
    tasks: total,
    seconds,
    throughputPerSecond: Math.round(total / seconds),
    depth: snapshot.depth,
    retried,
    waitTimeMs: snapshot.waitTimeMs,
    runTimeMs: snapshot.runTimeMs,
    health,
    validation,
  };
  await client.close();
  await store.close();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    const ms = (value: number | null) => (value === null ? "-" : `${Math.round(value)} ms`);
    say(`\nDone in ${seconds.toFixed(1)} s (${summary.throughputPerSecond} tasks/s across ${options.processes} processes):`);
    say(
      `  ${snapshot.depth.completed} completed, ${retried} needed a retry, ${snapshot.depth.dead_letter} dead-lettered, ${snapshot.depth.queued + snapshot.depth.leased} left`,
    );
    say(
      `  wait p50 ${ms(snapshot.waitTimeMs.p50)}, p95 ${ms(snapshot.waitTimeMs.p95)}; run p50 ${ms(snapshot.runTimeMs.p50)}, p95 ${ms(snapshot.runTimeMs.p95)}`,
    );
    say(
      `  health: ${health.status}${health.reasons.map((reason) => ` (${reason.message})`).join("")}; validator: ${
        validation === "skipped" ? "skipped (it checks SQLite files; on PostgreSQL use pg_amcheck)" : validation
      }`,
    );
    const db_ = JSON.stringify(shown);
    const next = ["stats", "list --status dead_letter", "show 1", "retry --dead-letter --type import-legacy"];
    if (!server) next.push("validate");
    say(`\nTry next:\n${next.map((command) => `  ${queueCommand()} ${command} --db ${db_}`).join("\n")}`);
  }
  return validation === "fail" || snapshot.depth.queued + snapshot.depth.leased > 0 ? 1 : 0;
}

/**
 * Where the demo runs: --db; else a PostgreSQL URL in QUEUE_DB_PATH; else a fresh file under
 * ./queue-demo. (A file in QUEUE_DB_PATH is the application's queue: the demo never writes to it.)
 */
function demoLocation(options: DemoOptions): string {
  if (options.db !== undefined) return databasePath(options);
  const fromEnv = process.env[DATABASE_PATH_ENV]?.trim();
  if (fromEnv !== undefined && isServerLocation(fromEnv)) return fromEnv;
  return join(process.cwd(), "queue-demo", `demo-${new Date().toISOString().replace(/[:.]/g, "-")}.db`);
}

/** The demo's summary and end condition count every task in the queue: on a server, the schema must hold none. */
async function assertEmpty(store: QueueStore): Promise<void> {
  const counts = await store.countTasksByStatus();
  const tasks = Object.values(counts).reduce((sum, count) => sum + count, 0);
  if (tasks === 0) return;
  throw new UsageError(
    `The demo counts every task in the queue, so it needs an empty one; ${redactLocation(store.location)} holds ${tasks} task${tasks === 1 ? "" : "s"}.`,
    "give the URL another schema (?schema=demo2: it is created on first use), or drop that schema in PostgreSQL and run the demo again",
  );
}

/** How many tasks took more than one attempt, read a page at a time. */
async function countRetried(store: QueueStore): Promise<number> {
  let retried = 0;
  let afterId: number | undefined;
  for (;;) {
    const page = await store.listTasks({ limit: 1_000, order: "oldest", afterId });
    for (const row of page) if (row.attempts > 1) retried += 1;
    const last = page.at(-1);
    if (last === undefined) return retried;
    afterId = last.id;
  }
}
