import {
  backup,
  type CheckpointMode,
  checkpoint,
  cleanup,
  DEFAULT_CHECKPOINT_MAX_WAIT_MS,
  databaseStats,
  integrityCheck,
  restoreBackup,
  vacuum,
} from "@queue/maintenance";
import { formatReport, QueueValidator } from "@queue/validation";
import type { Command } from "commander";
import { type GlobalOptions, output, sqliteFilePath, withDatabase, withStore } from "../context.js";
import { UsageError } from "../errors.js";
import { mebibytes, parseDuration } from "../parse.js";
import { startProgress } from "../progress.js";

export function registerMaintain(program: Command, globals: () => GlobalOptions): void {
  program
    .command("validate")
    .description("check the database and its environment; exits 1 if any check fails")
    .option("--thorough", "run integrity_check instead of quick_check")
    .addHelpText("after", "\nExamples:\n  queue validate\n  queue validate --thorough --json")
    .action(async (flags: { thorough?: boolean }) => {
      const options = globals();
      const report = await new QueueValidator(sqliteFilePath(options, "validate"), { thorough: flags.thorough ?? false }).validateAll();
      output(options, report, formatReport);
      if (report.status === "fail") process.exitCode = 1;
    });

  program
    .command("cleanup")
    .description("remove finished tasks and log lines by age, in short batches (workers keep running)")
    .option("--completed-older-than <duration>", "completed tasks finished longer ago than this (e.g. 7d)")
    .option("--dead-older-than <duration>", "dead-lettered tasks")
    .option("--cancelled-older-than <duration>", "cancelled tasks")
    .option("--logs-older-than <duration>", "task log lines")
    .option("--archive <file>", "also append removed tasks with their logs to this NDJSON file")
    .option("--dry-run", "count what would be removed, change nothing")
    .addHelpText(
      "after",
      "\nExamples:\n  queue cleanup --completed-older-than 7d --dead-older-than 30d --logs-older-than 30d\n  queue cleanup --completed-older-than 1d --archive ./archive.ndjson --dry-run",
    )
    .action(
      async (flags: {
        completedOlderThan?: string;
        deadOlderThan?: string;
        cancelledOlderThan?: string;
        logsOlderThan?: string;
        archive?: string;
        dryRun?: boolean;
      }) => {
        const options = globals();
        const policy = {
          ...(flags.completedOlderThan === undefined
            ? {}
            : { completedOlderThanMs: parseDuration(flags.completedOlderThan, "--completed-older-than") }),
          ...(flags.deadOlderThan === undefined ? {} : { deadLetterOlderThanMs: parseDuration(flags.deadOlderThan, "--dead-older-than") }),
          ...(flags.cancelledOlderThan === undefined
            ? {}
            : { cancelledOlderThanMs: parseDuration(flags.cancelledOlderThan, "--cancelled-older-than") }),
          ...(flags.logsOlderThan === undefined ? {} : { logsOlderThanMs: parseDuration(flags.logsOlderThan, "--logs-older-than") }),
          ...(flags.archive === undefined ? {} : { archiveFile: flags.archive }),
          dryRun: flags.dryRun ?? false,
        };
        if (Object.keys(policy).length === 1)
          throw new UsageError(
            "Say what to remove: --completed-older-than, --dead-older-than, --cancelled-older-than or --logs-older-than.",
          );
        const progress = startProgress(policy.dryRun ? "counting" : "cleaning up", { json: options.json ?? false });
        const report = await withStore(options, (store) => cleanup(store, policy)).finally(() => progress.stop());
        output(
          options,
          report,
          (value) =>
            `${value.dryRun ? "Would remove" : "Removed"} ${value.completed} completed, ${value.deadLetter} dead-lettered, ${value.cancelled} cancelled task(s) and ${value.logs} log line(s)${value.dryRun ? "" : ` in ${value.batches} batch(es)`}.`,
        );
      },
    );

  program
    .command("checkpoint")
    .description("copy the WAL into the database file (TRUNCATE also empties the WAL file)")
    .option("--mode <mode>", "PASSIVE, FULL, RESTART or TRUNCATE (default TRUNCATE)", "TRUNCATE")
    .option("--max-wait <duration>", "the longest FULL/RESTART/TRUNCATE may hold up writers while readers finish (default 200ms)")
    .addHelpText("after", "\nExamples:\n  queue checkpoint\n  queue checkpoint --mode PASSIVE\n  queue checkpoint --max-wait 1s")
    .action(async (flags: { mode: string; maxWait?: string }) => {
      const options = globals();
      const maxWaitMs = flags.maxWait === undefined ? DEFAULT_CHECKPOINT_MAX_WAIT_MS : parseDuration(flags.maxWait, "--max-wait");
      const result = await withDatabase(options, "checkpoint", (db) =>
        checkpoint(db, flags.mode.toUpperCase() as CheckpointMode, { maxWaitMs }),
      );
      output(
        options,
        result,
        (value) =>
          `Checkpoint ${value.mode}: ${value.checkpointedFrames} of ${value.walFrames} frames written; the WAL is ${mebibytes(value.walBytes)}${value.busy ? ` (busy: a reader or writer outlasted ${maxWaitMs} ms; try again later)` : ""}.`,
      );
    });

  program
    .command("vacuum")
    .description("rebuild the file without free pages (takes the write lock for its whole run)")
    .addHelpText("after", "\nExamples:\n  queue vacuum")
    .action(async () => {
      const options = globals();
      const result = await withDatabase(options, "vacuum", vacuum);
      output(options, result, (value) => `Vacuumed: ${value.before.fileBytes} -> ${value.after.fileBytes} bytes.`);
    });

  program
    .command("integrity")
    .description("SQLite's integrity check, and file statistics; exits 1 on problems")
    .option("--quick", "quick_check instead of integrity_check")
    .addHelpText("after", "\nExamples:\n  queue integrity\n  queue integrity --quick --json")
    .action(async (flags: { quick?: boolean }) => {
      const options = globals();
      const result = await withDatabase(options, "integrity", (db) => ({
        ...integrityCheck(db, { quick: flags.quick ?? false }),
        stats: databaseStats(db),
      }));
      output(options, result, (value) =>
        value.ok ? `ok (${value.stats.pageCount} pages, ${value.stats.freelistCount} free)` : `problems:\n${value.problems.join("\n")}`,
      );
      if (!result.ok) process.exitCode = 1;
    });

  program
    .command("backup")
    .description("copy the live database with SQLite's online backup API, then verify the copy")
    .argument("<destination>", "a new file")
    .addHelpText("after", "\nExamples:\n  queue backup ./backups/queue-2030-01-01.db")
    .action(async (destination: string) => {
      const options = globals();
      const progress = startProgress("backing up (pages)", { json: options.json ?? false, total: 1 });
      const result = await withDatabase(options, "backup", (db) =>
        backup(db, destination, { onProgress: (done, total) => progress.update(done, total) }),
      ).finally(() => progress.stop());
      output(options, result, (value) => `Backed up to ${value.file} (${value.bytes} bytes, verified).`);
    });

  program
    .command("restore")
    .description("restore a verified backup over the database; refuses while workers run unless --force")
    .argument("<source>", "a backup file")
    .option("--force", "restore even though workers are running on the database")
    .addHelpText(
      "after",
      "\nExamples:\n  queue restore ./backups/queue-2030-01-01.db\n  queue restore ./backups/queue-2030-01-01.db --force",
    )
    .action(async (source: string, flags: { force?: boolean }) => {
      const options = globals();
      const result = await restoreBackup(source, sqliteFilePath(options, "restore"), { force: flags.force ?? false });
      output(options, result, (value) => `Restored ${value.tasks} task(s) from ${source}.`);
    });
}
