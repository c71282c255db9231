import type { Command } from "commander";
import type { GlobalOptions } from "../context.js";
import { runDemo } from "../demo/run.js";
import { UsageError } from "../errors.js";
import { parseInteger } from "../parse.js";
import { runTour } from "../tour/run.js";

export function registerDemo(program: Command, globals: () => GlobalOptions): void {
  program
    .command("demo")
    .description(
      "a guided run on a fresh queue (a new file, or with a postgres:// URL in --db or QUEUE_DB_PATH an empty schema): a realistic mix of tasks, worker processes, live progress and a summary; with --tour, every integration pattern one step at a time",
    )
    .option("--tasks <n>", "how many tasks (default 3000)")
    .option("--processes <n>", "worker processes (default 3)")
    .option(
      "--tour",
      "walk through every pattern step by step: validate, enqueue, claim, the four strategies, observe, maintain, self-test",
    )
    .option("--yes", "with --tour: run every step straight through instead of waiting for Enter (for scripts and tests)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  queue demo",
        "  queue demo --tasks 10000 --processes 4 --json",
        "  queue demo --db 'postgres://app@localhost:5432/app?schema=demo'   # on PostgreSQL (an empty schema)",
        "  queue demo --tour                 # press Enter after each step, q to stop",
        "  queue demo --tour --yes           # every step without stopping",
        "  queue demo --tour --json          # every step, then one JSON report",
      ].join("\n"),
    )
    .action(async (flags: { tasks?: string; processes?: string; tour?: boolean; yes?: boolean }) => {
      const options = globals();
      if (flags.tour === true) {
        if (flags.tasks !== undefined || flags.processes !== undefined)
          throw new UsageError("--tasks and --processes belong to the plain demo; the tour always runs the same small set of tasks.");
        process.exitCode = await runTour({
          ...(options.db === undefined ? {} : { db: options.db }),
          yes: flags.yes ?? false,
          json: options.json ?? false,
        });
        return;
      }
      if (flags.yes !== undefined) throw new UsageError("--yes goes with --tour (the plain demo never waits for input).");
      process.exitCode = await runDemo({
        ...(options.db === undefined ? {} : { db: options.db }),
        tasks: flags.tasks === undefined ? 3_000 : parseInteger(flags.tasks, "--tasks", 20, 1_000_000),
        processes: flags.processes === undefined ? 3 : parseInteger(flags.processes, "--processes", 1, 32),
        json: options.json ?? false,
      });
    });
}
