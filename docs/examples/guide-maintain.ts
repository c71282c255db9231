import type { QueueDatabase } from "@queue/core";
import { backup, cleanupStaleWorkers, deadLetterSummary, recoverExpiredLeasesNow, runMaintenance, verifyBackup } from "@queue/maintenance";

/** Every process may call this: each job runs when due, recorded in the file, whichever process gets there first. */
export function scheduleMaintenance(db: QueueDatabase): NodeJS.Timeout {
  const run = async () => {
    const report = await runMaintenance(db, {
      backup: { every: "daily", directory: "/var/backups/myapp", keep: 7 },
      cleanup: {
        every: "hourly",
        completedOlderThanMs: 7 * 86_400_000,
        deadLetterOlderThanMs: 30 * 86_400_000,
        archive: true, // removed tasks move to the archive table, in batches of 500
      },
    });
    for (const job of report.filter((entry) => entry.error !== undefined)) console.error(`maintenance ${job.job}: ${job.error}`);
  };
  return setInterval(() => void run(), 15 * 60_000).unref(); // never keeps the process alive
}

/** Before a risky deploy: a backup that is checked before anyone relies on it. */
export async function backupBeforeDeploy(db: QueueDatabase, file: string): Promise<void> {
  await backup(db, file); // online: workers keep running
  const verified = verifyBackup(file);
  if (!verified.ok) throw new Error(`backup ${file} failed verification: ${verified.problems.join("; ")}`);
}

/** After an incident: put the tasks of dead workers back at once, forget those workers, see what failed. */
export async function afterIncident(db: QueueDatabase): Promise<void> {
  const recovered = await recoverExpiredLeasesNow(db); // otherwise the next claim does it
  console.log(`${recovered.requeued.length} requeued, ${recovered.deadLettered.length} were on their last attempt`);
  await cleanupStaleWorkers(db, 10 * 60_000);
  for (const group of await deadLetterSummary(db)) console.log(group.type, group.count, group.errorMessage);
}
