import type { QueueDatabase } from "@queue/core";
import { cleanup, deadLetterSummary, retryAllDeadLetters, runMaintenance } from "@queue/maintenance";

export async function maintain(db: QueueDatabase): Promise<void> {
  // Run from cron or a timer: each job runs when due, whichever process calls it.
  const report = await runMaintenance(db, {
    backup: { every: "daily", directory: "./backups", keep: 7 },
    cleanup: { every: "daily", completedOlderThanMs: 7 * 86_400_000, deadLetterOlderThanMs: 30 * 86_400_000, archive: true },
  });
  console.log(report.filter((job) => job.ran).map((job) => job.job));

  // One-off retention, in short batches while workers keep running.
  await cleanup(db, { completedOlderThanMs: 86_400_000, archiveFile: "./archive.ndjson" });

  // What is failing, and send one kind back once fixed.
  for (const group of await deadLetterSummary(db)) console.log(group.type, group.errorMessage, group.count);
  await retryAllDeadLetters(db, { type: "send-email" });
}
