import { TASK_STATUSES, type Task, type TaskStatus, taskLogFromRow, taskNotFound } from "@queue/core";
import { healthSummary, type MetricsSnapshot, QueueMetrics } from "@queue/observability";
import type { Command } from "commander";
import { color, type GlobalOptions, openStore, output, withClient, withStore } from "../context.js";
import { UsageError } from "../errors.js";
import { mebibytes, parseDuration, parseInteger } from "../parse.js";
import { printable } from "../terminal-text.js";

function taskLine(task: Task): string {
  const error = task.error === null ? "" : `  ${color.red(printable(task.error.message))}`;
  return `${String(task.id).padStart(6)}  ${task.status.padEnd(11)}  ${printable(task.type)}  p${task.priority}  attempts ${task.attempts}/${task.maxAttempts}${error}`;
}

function statsText(snapshot: MetricsSnapshot): string {
  const health = healthSummary(snapshot);
  const ms = (value: number | null) => (value === null ? "-" : `${Math.round(value)} ms`);
  const lines = [
    `Tasks: ${TASK_STATUSES.map((status) => `${status} ${snapshot.depth[status]}`).join(", ")}`,
    `Last ${snapshot.windowMs / 60_000} min: ${snapshot.finishedInWindow.completed} completed, ${snapshot.finishedInWindow.deadLettered} dead-lettered (${snapshot.throughputPerMinute.completed.toFixed(1)}/min)`,
    `Wait p50/p95/p99: ${ms(snapshot.waitTimeMs.p50)} / ${ms(snapshot.waitTimeMs.p95)} / ${ms(snapshot.waitTimeMs.p99)}; run p50/p95/p99: ${ms(snapshot.runTimeMs.p50)} / ${ms(snapshot.runTimeMs.p95)} / ${ms(snapshot.runTimeMs.p99)}`,
    `Oldest waiting: ${Math.round(snapshot.oldestQueuedAgeMs / 1000)} s; workers: ${snapshot.workers.filter((worker) => !worker.stale).length} active, ${snapshot.workers.filter((worker) => worker.stale).length} stale`,
    `Storage: database ${mebibytes(snapshot.file.bytes)}, WAL ${mebibytes(snapshot.file.walBytes)}`,
  ];
  if (snapshot.activeByType.length > 0)
    lines.push(`By type: ${snapshot.activeByType.map((row) => `${row.type} ${row.status} ${row.count}`).join(", ")}`);
  const paint = health.status === "ok" ? color.green : health.status === "warn" ? color.yellow : color.red;
  lines.push(`Health: ${paint(health.status)}${health.reasons.map((reason) => `\n  - ${reason.message}`).join("")}`);
  return lines.join("\n");
}

/** The shortest refresh of `stats --watch`. */
const MIN_WATCH_MS = 100;

export function registerInspect(program: Command, globals: () => GlobalOptions): void {
  program
    .command("stats")
    .description("depth by status and type, throughput, latency percentiles, workers and health")
    .option("--window <duration>", "the window for throughput and latency (default 5m)")
    .option("--watch [interval]", "refresh until interrupted (default every 2s)")
    .addHelpText("after", "\nExamples:\n  queue stats\n  queue stats --json\n  queue stats --watch 1s")
    .action(async (flags: { window?: string; watch?: string | boolean }) => {
      const options = globals();
      const windowMs = flags.window === undefined ? undefined : parseDuration(flags.window, "--window");
      if (windowMs !== undefined && windowMs < 1)
        throw new UsageError(`--window must be at least 1ms; got ${JSON.stringify(flags.window)}.`);
      const every = typeof flags.watch === "string" ? parseDuration(flags.watch, "--watch") : 2_000;
      if (every < MIN_WATCH_MS)
        throw new UsageError(`--watch refreshes at most every ${MIN_WATCH_MS}ms; got ${JSON.stringify(flags.watch)}.`);
      const store = openStore(options);
      const metrics = new QueueMetrics(store, windowMs === undefined ? {} : { windowMs });
      const watching = flags.watch !== undefined && flags.watch !== false;
      const show = async (clearScreen = false) => {
        const snapshot = await metrics.snapshot();
        const value = { ...snapshot, health: healthSummary(snapshot) };
        if (clearScreen && process.stdout.isTTY && !options.json) process.stdout.write("\x1b[2J\x1b[H");
        // Watching with --json: one compact document per line (NDJSON), which tools can read as a stream.
        if (watching && options.json) process.stdout.write(`${JSON.stringify(value)}\n`);
        else output(options, value, statsText);
      };
      if (flags.watch === undefined || flags.watch === false) {
        await show().finally(() => store.close());
        return;
      }
      let stopped = false;
      await new Promise<void>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const stop = (error?: unknown) => {
          stopped = true;
          clearInterval(timer);
          if (error === undefined) resolve();
          else reject(error);
        };
        // A reader that went away (`| head`) ends the watch quietly.
        process.stdout.on("error", (error: NodeJS.ErrnoException) => {
          if (error.code === "EPIPE") stop();
          else throw error;
        });
        timer = setInterval(() => {
          if (!stopped) show(true).catch(stop);
        }, every);
        show().catch(stop);
        process.once("SIGINT", () => stop()).once("SIGTERM", () => stop());
      }).finally(() => store.close());
    });

  program
    .command("list")
    .description("tasks, newest first")
    .option("--status <status>", `one of ${TASK_STATUSES.join(", ")}`)
    .option("--type <type>", "only this task type")
    .option("--limit <n>", "how many (default 20, at most 1000)")
    .option("--cursor <cursor>", "continue after a previous page (its nextCursor)")
    .addHelpText("after", "\nExamples:\n  queue list --status dead_letter\n  queue list --type send-email --limit 100 --json")
    .action(async (flags: { status?: string; type?: string; limit?: string; cursor?: string }) => {
      const options = globals();
      if (flags.status !== undefined && !(TASK_STATUSES as readonly string[]).includes(flags.status)) {
        throw new UsageError(`--status must be one of ${TASK_STATUSES.join(", ")}; got ${JSON.stringify(flags.status)}.`);
      }
      const page = await withClient(options, (client) =>
        client.list({
          ...(flags.status === undefined ? {} : { status: flags.status as TaskStatus }),
          ...(flags.type === undefined ? {} : { type: flags.type }),
          limit: flags.limit === undefined ? 20 : parseInteger(flags.limit, "--limit", 1, 1_000),
          ...(flags.cursor === undefined ? {} : { cursor: flags.cursor }),
        }),
      );
      output(options, page, (value) =>
        value.tasks.length === 0
          ? "No tasks."
          : [
              ...value.tasks.map(taskLine),
              ...(value.nextCursor === undefined ? [] : [color.dim(`more: --cursor ${value.nextCursor}`)]),
            ].join("\n"),
      );
    });

  program
    .command("show")
    .description("one task, with its log")
    .argument("<id>", "the task id")
    .addHelpText("after", "\nExamples:\n  queue show 42\n  queue show 42 --json")
    .action(async (idText: string) => {
      const options = globals();
      const id = parseInteger(idText, "<id>", 1);
      const { task, logs } = await withClient(options, async (client) => {
        const task = await client.get(id);
        if (task === undefined) throw taskNotFound(id);
        return { task, logs: (await client.store.taskLogs(id)).map(taskLogFromRow) };
      });
      output(options, { task, logs }, (value) =>
        [
          taskLine(value.task),
          `payload: ${JSON.stringify(value.task.payload)}`,
          `created ${value.task.createdAt.toISOString()}, runs after ${value.task.runAfter.toISOString()}${value.task.finishedAt === null ? "" : `, finished ${value.task.finishedAt.toISOString()}`}`,
          ...(value.task.result === null ? [] : [`result: ${JSON.stringify(value.task.result)}`]),
          ...(value.task.error?.stack === undefined ? [] : [color.dim(value.task.error.stack.split("\n").map(printable).join("\n"))]),
          ...value.logs.map(
            (log) =>
              `${log.at.toISOString()} ${log.level.padEnd(5)} ${printable(log.message)}${log.details === null ? "" : ` ${JSON.stringify(log.details)}`}`,
          ),
        ].join("\n"),
      );
    });

  program
    .command("logs")
    .description("a task's log lines")
    .argument("<id>", "the task id")
    .addHelpText("after", "\nExamples:\n  queue logs 42\n  queue logs 42 --json")
    .action(async (idText: string) => {
      const options = globals();
      const id = parseInteger(idText, "<id>", 1);
      const logs = await withClient(options, async ({ store }) => {
        if ((await store.getTask(id)) === undefined) throw taskNotFound(id);
        return (await store.taskLogs(id)).map(taskLogFromRow);
      });
      output(options, logs, (value) =>
        value.length === 0
          ? "No log lines."
          : value.map((log) => `${log.at.toISOString()} ${log.level.padEnd(5)} ${printable(log.message)}`).join("\n"),
      );
    });

  program
    .command("workers")
    .description("registered workers, their heartbeats and leased tasks")
    .addHelpText("after", "\nExamples:\n  queue workers\n  queue workers --json")
    .action(async () => {
      const options = globals();
      const workers = await withStore(options, async (store) => (await new QueueMetrics(store).snapshot()).workers);
      output(options, workers, (value) =>
        value.length === 0
          ? "No workers registered."
          : value
              .map(
                (worker) =>
                  `${worker.id}  pid ${worker.pid}  ${worker.stale ? color.yellow("stale") : "active"}  heartbeat ${Math.round(worker.heartbeatAgeMs / 1000)} s ago  leased ${worker.leased}`,
              )
              .join("\n"),
      );
    });
}
