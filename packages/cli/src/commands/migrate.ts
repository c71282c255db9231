import { exportQueueState, migrateInflightRuns, RunRegistry, rollbackToInMemory } from "@queue/integration";
import type { Command } from "commander";
import { type GlobalOptions, output, withStore } from "../context.js";

export function registerMigrate(program: Command, globals: () => GlobalOptions): void {
  program
    .command("migrate")
    .description("move queued and running runs from a run registry's JSON history into the queue (idempotent)")
    .requiredOption("--registry <file>", "the RunRegistry history file (JSON)")
    .option("--dry-run", "show the plan, change nothing")
    .addHelpText("after", "\nExamples:\n  queue migrate --registry ./runs.json --dry-run\n  queue migrate --registry ./runs.json")
    .action(async (flags: { registry: string; dryRun?: boolean }) => {
      const options = globals();
      const report = await withStore(options, (store) =>
        migrateInflightRuns({ from: flags.registry, store, dryRun: flags.dryRun ?? false }),
      );
      output(
        options,
        report,
        (value) =>
          `${value.dryRun ? "Would move" : "Moved"} ${value.migrated.length} in-flight run(s) into the queue; ${value.alreadyInQueue.length} already there; ${value.finished} finished run(s) left alone.`,
      );
    });

  program
    .command("rollback")
    .description("go back to in-memory execution: flip the flag, move queued runs back into the registry")
    .requiredOption("--registry <file>", "the RunRegistry history file (JSON) to re-import queued runs into")
    .option("--config <file>", "the YAML/JSON config file whose task_execution.backend to set to in-memory (a backup is kept)")
    .addHelpText("after", "\nExamples:\n  queue rollback --registry ./runs.json --config ./app.yaml")
    .action(async (flags: { registry: string; config?: string }) => {
      const options = globals();
      const registry = new RunRegistry({ file: flags.registry });
      const report = await withStore(options, (store) =>
        rollbackToInMemory({ store, registry, ...(flags.config === undefined ? {} : { configFile: flags.config }) }),
      );
      output(options, report, (value) =>
        [
          value.configBackup === undefined
            ? "No config file changed."
            : `Flag set to in-memory (previous config kept at ${value.configBackup}).`,
          `${value.needsRerun.length} queued run(s) moved back to the registry; re-run them: ${value.needsRerun.join(", ") || "none"}.`,
          `${value.stillRunning.length} run(s) still running in queue workers: ${value.stillRunning.join(", ") || "none"}.`,
        ].join("\n"),
      );
    });

  program
    .command("export")
    .description("the queue's unfinished runs, as NDJSON (to a file or stdout)")
    .option("--file <path>", "write NDJSON here instead of printing it")
    .addHelpText("after", "\nExamples:\n  queue export > inflight.ndjson\n  queue export --file ./inflight.ndjson --json")
    .action(async (flags: { file?: string }) => {
      const options = globals();
      const records = await withStore(options, (store) => exportQueueState(store, flags.file === undefined ? {} : { file: flags.file }));
      if (flags.file === undefined && !options.json) {
        process.stdout.write(records.map((record) => `${JSON.stringify(record)}\n`).join(""));
        return;
      }
      output(
        options,
        { count: records.length, ...(flags.file === undefined ? { records } : { file: flags.file }) },
        (value) => `Exported ${value.count} unfinished run(s) to ${flags.file}.`,
      );
    });
}
