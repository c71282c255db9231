import { openQueueStore, type QueueStore } from "@queue/core";
import { migrateBackend } from "@queue/maintenance";
import type { Command } from "commander";
import { databasePath, type GlobalOptions, openStore, output } from "../context.js";
import { UsageError } from "../errors.js";
import { parseInteger } from "../parse.js";
import { startProgress } from "../progress.js";

export function registerMigrateBackend(program: Command, globals: () => GlobalOptions): void {
  program
    .command("migrate-backend")
    .description(
      "copy the whole queue (every task in any status, logs, archive, pauses; ids kept) from one database to another, e.g. SQLite to PostgreSQL and back, and verify the copy",
    )
    .requiredOption("--from <db>", "the queue to copy: a SQLite file or a postgres:// URL")
    .requiredOption(
      "--to <db>",
      "an empty queue to copy into: a new SQLite file, or a postgres:// URL (?schema=NAME) whose schema holds no tasks",
    )
    .option("--batch-size <n>", "rows per transaction (default 1000)")
    .option("--force", "copy even while workers hold leases (their tasks run again on the target once the leases expire)")
    .addHelpText(
      "after",
      [
        "",
        "Stop producers and workers first (or `queue pause` and let running tasks finish): the copy is checked",
        "against the source at the end, and a source that changed meanwhile fails the check.",
        "",
        "Examples:",
        "  queue migrate-backend --from ./queue.db --to 'postgres://app@db:5432/app?schema=queue'",
        "  queue migrate-backend --from 'postgres://app@db:5432/app?schema=queue' --to ./rollback.db --json",
      ].join("\n"),
    )
    .action(async (flags: { from: string; to: string; batchSize?: string; force?: boolean }) => {
      const options = globals();
      const fromLocation = databasePath({ db: flags.from });
      const toLocation = databasePath({ db: flags.to });
      if (fromLocation === toLocation) throw new UsageError("--from and --to name the same database; copy into another one.");
      const batchSize = flags.batchSize === undefined ? 1_000 : parseInteger(flags.batchSize, "--batch-size", 1, 100_000);
      const from = openStore({ db: flags.from });
      let to: QueueStore | undefined;
      const progress = startProgress("rows copied", options.json === undefined ? {} : { json: options.json });
      try {
        to = openQueueStore({ location: toLocation });
        const report = await migrateBackend(from, to, {
          batchSize,
          force: flags.force ?? false,
          onProgress: (copied) => progress.update(copied.tasks + copied.logs + copied.archived),
        });
        progress.stop();
        output(options, report, (value) =>
          [
            `Copied ${value.tasks} task(s), ${value.logs} log line(s) and ${value.archived} archived task(s) from ${value.from} to ${value.to} in ${value.seconds.toFixed(1)} s.`,
            `  by status: ${Object.entries(value.byStatus)
              .map(([status, count]) => `${count} ${status}`)
              .join(", ")}${value.paused.length > 0 ? `; paused: ${value.paused.join(", ")}` : ""}`,
            `  verified: counts and SHA-256 checksums match on both sides (tasks ${value.checksums.tasks.slice(0, 12)}…)`,
            `Point producers and workers at ${value.to} (--db or QUEUE_DB_PATH). ${value.from} is unchanged: to roll back, point them at it again.`,
          ].join("\n"),
        );
      } finally {
        progress.stop();
        await to?.close();
        await from.close();
      }
    });
}
