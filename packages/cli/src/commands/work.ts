import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { loadWorkerConfig } from "@queue/scheduling";
import { type TaskHandlers, Worker } from "@queue/worker-engine";
import type { Command } from "commander";
import { onStopRequest, requestStop } from "../child-stop.js";
import { type GlobalOptions, openStore, output } from "../context.js";
import { UsageError } from "../errors.js";
import { importHandlersModule } from "../handlers-module.js";
import { parseDuration, parseInteger, parseList } from "../parse.js";
import { printable, printableLines } from "../terminal-text.js";

interface WorkFlags {
  handlers: string;
  concurrency?: string;
  strategy?: string;
  leaseMs?: string;
  types?: string;
  untilEmpty?: boolean;
  workerId?: string;
  config?: string;
  processes?: string;
  shutdownTimeout?: string;
}

/** Loads MODULE and returns its default export, which must map task types to functions. */
export async function loadHandlers(module: string): Promise<TaskHandlers> {
  const path = resolve(module);
  if (!existsSync(path))
    throw new UsageError(
      `Handlers module ${path} does not exist.`,
      "pass the path of an ESM file (.js, .mjs, or .ts) that default-exports { [type]: async (payload, ctx) => result }",
    );
  const loaded = await importHandlersModule(path);
  const handlers = loaded.default;
  if (typeof handlers !== "object" || handlers === null || Array.isArray(handlers)) {
    throw new UsageError(
      `Handlers module ${path} has no default export object.`,
      'end it with: export default { "send-email": async (payload, ctx) => { ... } }',
    );
  }
  const entries = Object.entries(handlers);
  const notFunctions = entries.filter(([, handler]) => typeof handler !== "function").map(([type]) => type);
  if (entries.length === 0 || notFunctions.length > 0) {
    throw new UsageError(
      entries.length === 0
        ? `Handlers module ${path} exports no handlers.`
        : `In ${path}, these handlers are not functions: ${notFunctions.join(", ")}.`,
      "each key is a task type and each value an async (payload, ctx) => result function",
    );
  }
  return handlers as TaskHandlers;
}

/** Runs `processes` copies of this command (without --processes) and waits for all of them. */
function runProcesses(count: number): Promise<number> {
  const args = process.argv.slice(2);
  const index = args.indexOf("--processes");
  const childArgs =
    index === -1 ? args.filter((arg) => !arg.startsWith("--processes=")) : [...args.slice(0, index), ...args.slice(index + 2)];
  const children = Array.from({ length: count }, () => fork(process.argv[1] as string, childArgs, { stdio: "inherit" }));
  const forward = (signal: NodeJS.Signals) => {
    for (const child of children) requestStop(child, signal);
  };
  process.on("SIGINT", forward).on("SIGTERM", forward);
  return Promise.all(children.map((child) => new Promise<number>((done) => child.once("exit", (code) => done(code ?? 1))))).then(
    (codes) => {
      process.off("SIGINT", forward).off("SIGTERM", forward);
      return codes.find((code) => code !== 0) ?? 0;
    },
  );
}

/**
 * After a graceful stop has recorded every task's outcome, a handler that ignored its abort (an
 * interval, a socket) must not keep the command alive: supervisors would wait, then kill it. Names
 * each such handler, then ends the process once what is written has been flushed.
 */
function exitDespiteStuckHandlers(worker: Worker): void {
  const stuck = worker.runningHandlers;
  if (stuck.length === 0) return;
  for (const handler of stuck)
    process.stderr.write(
      `worker ${printable(worker.id)}: the handler of task ${handler.taskId} (type ${printable(handler.type)}) did not return ${Math.round(handler.runningMs / 1000)} s after it started, although its AbortSignal fired; its task was released, so exiting without it.\n`,
    );
  // Unref'd: fires only if something (that handler's timer or socket) still holds the process.
  setTimeout(() => process.exit(), 100).unref();
}

export function registerWork(program: Command, globals: () => GlobalOptions): void {
  program
    .command("work")
    .description("run a worker with the handlers of a module")
    .requiredOption(
      "--handlers <module>",
      "an ESM module (JavaScript, or TypeScript through tsx or Node.js 22.18+) whose default export is { [type]: async (payload, ctx) => result }",
    )
    .option("--concurrency <n>", "tasks at once (default 1)")
    .option("--strategy <name>", "fifo, lifo, priority or weighted_random (default priority)")
    .option("--lease-ms <duration>", "lease length, renewed while a task runs (default 30s)")
    .option("--types <a,b>", "claim only these task types (default: every type the module handles)")
    .option("--until-empty", "stop once no task is claimable and none is running")
    .option("--worker-id <id>", "the id this worker registers under")
    .option("--config <file>", "worker settings from a JSON, YAML or TOML file (QUEUE_WORKER_* variables override it)")
    .option("--processes <n>", "run this many worker processes")
    .option("--shutdown-timeout <duration>", "on SIGINT/SIGTERM, how long running tasks may finish (default 30s)")
    .addHelpText(
      "after",
      "\nExamples:\n  queue work --handlers ./handlers.js --concurrency 10\n  queue work --handlers ./handlers.js --processes 4 --strategy fifo\n  queue work --handlers ./handlers.js --until-empty",
    )
    .action(async (flags: WorkFlags) => {
      const options = globals();
      if (flags.processes !== undefined) {
        const processes = parseInteger(flags.processes, "--processes", 1, 256);
        if (processes > 1) {
          process.exitCode = await runProcesses(processes);
          return;
        }
      }
      const handlers = await loadHandlers(flags.handlers);
      const config = loadWorkerConfig(flags.config === undefined ? {} : { file: flags.config });
      const store = openStore(options);
      const worker = new Worker({
        store,
        handlers,
        config,
        ...(flags.concurrency === undefined ? {} : { concurrency: parseInteger(flags.concurrency, "--concurrency", 1, 1_000) }),
        ...(flags.strategy === undefined ? {} : { strategy: flags.strategy }),
        ...(flags.leaseMs === undefined ? {} : { leaseMs: parseDuration(flags.leaseMs, "--lease-ms") }),
        ...(flags.types === undefined ? {} : { types: parseList(flags.types) }),
        ...(flags.workerId === undefined ? {} : { workerId: flags.workerId }),
        ...(flags.shutdownTimeout === undefined ? {} : { shutdownTimeoutMs: parseDuration(flags.shutdownTimeout, "--shutdown-timeout") }),
        handleSignals: true,
      });
      worker.on("error", (error) => process.stderr.write(`worker ${printable(worker.id)}: ${printableLines((error as Error).message)}\n`));
      // Started by `--processes` or `queue demo`: the parent may ask through IPC (on Windows, where signals cannot).
      const stopListening = onStopRequest(() => void worker.stop());
      const announce = () => {
        if (!options.json) process.stderr.write(`worker ${worker.id} on ${store.location}: ${Object.keys(handlers).join(", ")}\n`);
      };
      try {
        if (flags.untilEmpty) {
          announce();
          const stats = await worker.runUntilEmpty();
          output(
            options,
            { workerId: worker.id, ...stats },
            (value) =>
              `worker ${value.workerId}: ${value.completed} completed, ${value.failed} failed, ${value.retried} retried, ${value.deadLettered} dead-lettered`,
          );
        } else {
          const stopped = new Promise<void>((resolve) => worker.once("stopped", resolve));
          await worker.start();
          // Said once it is registered and handles SIGINT/SIGTERM: a supervisor that waits for
          // this line can stop it gracefully from then on.
          announce();
          await stopped;
        }
      } finally {
        stopListening();
        await worker.stop();
        await store.close();
        exitDespiteStuckHandlers(worker);
      }
    });
}
