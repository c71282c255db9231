import type { Command } from "commander";
import type { GlobalOptions } from "../context.js";
import { runDemo } from "../demo/run.js";
import { parseInteger } from "../parse.js";

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command("demo")
    .description("a guided run on a fresh file: a realistic mix of tasks, worker processes, live progress and a summary")
    .option("--tasks <n>", "how many tasks (default 3000)")
    .option("--processes <n>", "worker processes (default 3)")
    .addHelpText("after", "\nExamples:\n  queue demo\n  queue demo --tasks 10000 --processes 4 --json")
    .action(async (flags: { tasks?: string; processes?: string }) => {
      const options = globals();
      process.exitCode = await runDemo({
        ...(options.db === undefined ? {} : { db: options.db }),
        tasks: flags.tasks === undefined ? 3_000 : parseInteger(flags.tasks, "--tasks", 20, 1_000_000),
        processes: flags.processes === undefined ? 3 : parseInteger(flags.processes, "--processes", 1, 32),
        json: options.json ?? false,
      });
    });
}
