import { readFileSync } from "node:fs";
import { isQueueError } from "@queue/core";
import { Command, CommanderError } from "commander";
import { registerControl } from "./commands/control.js";
import { registerDemo } from "./commands/demo.js";
import { registerEnqueue } from "./commands/enqueue.js";
import { registerInit } from "./commands/init.js";
import { registerInspect } from "./commands/inspect.js";
import { registerMaintain } from "./commands/maintain.js";
import { registerMigrate } from "./commands/migrate.js";
import { registerMigrateBackend } from "./commands/migrate-backend.js";
import { registerWork } from "./commands/work.js";
import { errorColor, type GlobalOptions } from "./context.js";
import { UsageError } from "./errors.js";
import { printableLines } from "./terminal-text.js";

const version = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export function buildProgram(): Command {
  const program = new Command("queue")
    .description("A durable task queue in one SQLite file: enqueue, work, inspect and maintain it.")
    .version(version)
    .option("--db <path>", "the queue database (default: QUEUE_DB_PATH, else the per-user data directory)")
    .option("--json", "machine-readable output")
    .option("--verbose", "show stack traces on errors")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(errorColor.red(text)) });
  const globals = () => program.opts<GlobalOptions>();
  registerInit(program, globals);
  registerEnqueue(program, globals);
  registerWork(program, globals);
  registerInspect(program, globals);
  registerControl(program, globals);
  registerMaintain(program, globals);
  registerMigrate(program, globals);
  registerMigrateBackend(program, globals);
  registerDemo(program, globals);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; resolves with the exit code: 0 ok, 1 failure, 2 usage error. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit with 0; commander has already printed its own usage message.
      return error.exitCode === 0 ? 0 : 2;
    }
    const verbose = program.opts<GlobalOptions>().verbose ?? false;
    const hint = hintOf(error);
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(
      `${errorColor.red("error:")} ${printableLines(message)}${typeof hint === "string" ? `\n${errorColor.dim(`hint: ${printableLines(hint)}`)}` : ""}\n`,
    );
    if (verbose && error instanceof Error && error.stack !== undefined) process.stderr.write(`${printableLines(error.stack)}\n`);
    if (error instanceof UsageError) return 2;
    if (isQueueError(error, "INVALID_ARGUMENT", "INVALID_CONFIG", "INVALID_PAYLOAD")) return 2;
    return 1;
  }
}

/** The one-line advice an error carries: its own `hint`, or a QueueError's `details.hint`. */
function hintOf(error: unknown): unknown {
  const own = (error as { hint?: unknown } | undefined)?.hint;
  if (own !== undefined) return own;
  return isQueueError(error) ? error.details?.hint : undefined;
}
