import { statSync } from "node:fs";
import { backup, checkpoint, cleanup, verifyBackup } from "@queue/maintenance";
import type { TourStep } from "./step.js";

/** Retention with an archive, an online backup verified on its own, and a WAL checkpoint. */
export const maintainStep: TourStep = {
  name: "maintain",
  title: "Maintenance: cleanup with archive, backup and verify, checkpoint",
  summary:
    "A long-lived file needs old tasks removed, backups, and its WAL copied back. All of it runs while workers keep working; runMaintenance() does it on a schedule.",
  async run(tour) {
    const { db } = tour;
    // Production keeps finished tasks for days (completedOlderThanMs: 7 * 86_400_000); the tour clears them all.
    const removed = await cleanup(db, { completedOlderThanMs: 0, archive: true, archiveFile: tour.archiveFile });
    tour.call(
      "await cleanup(db, { completedOlderThanMs: 0, archive: true, archiveFile })",
      `removed ${removed.completed} completed tasks in ${removed.batches} batch(es) of up to 500; ${removed.archived} copied to the archive table`,
      "the newest task always stays, so that SQLite never hands its id out again",
      `and appended to ${tour.archiveFile} (${statSync(tour.archiveFile).size} bytes of NDJSON, written before each delete)`,
    );

    const copy = await backup(db, tour.backupFile);
    tour.call(
      "await backup(db, backupFile)",
      `${copy.bytes} bytes (${copy.pages} pages) in ${Math.round(copy.durationMs)} ms with SQLite's online backup API, under a .partial name until complete`,
    );

    const verified = verifyBackup(tour.backupFile);
    tour.call(
      "verifyBackup(backupFile)",
      verified.ok
        ? `ok: integrity check passed, schema version ${verified.schemaVersion}, ${verified.tasks} tasks`
        : `FAILED: ${verified.problems.join("; ")}`,
    );

    const walBefore = statSync(`${db.path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    // A reader, or a checkpoint another connection is running, can hold a TRUNCATE back (busy): try again shortly.
    let result = checkpoint(db, "TRUNCATE");
    let tries = 1;
    for (; result.busy && tries < 10; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      result = checkpoint(db, "TRUNCATE");
    }
    const walAfter = statSync(`${db.path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    tour.call(
      'checkpoint(db, "TRUNCATE")',
      `${result.busy ? "busy: a reader held it back; try again later" : "committed pages copied into the database file"}; the -wal file went from ${walBefore} to ${walAfter} bytes${tries > 1 ? ` (on try ${tries})` : ""}`,
    );
    tour.note("From a terminal: queue cleanup --completed-older-than 7d --archive FILE, queue backup FILE, queue checkpoint.");
    return {
      ok: verified.ok && removed.completed > 0,
      data: {
        cleanup: { completed: removed.completed, archived: removed.archived, archiveFile: tour.archiveFile },
        backup: { file: tour.backupFile, bytes: copy.bytes, verified: verified.ok, tasks: verified.tasks },
        checkpoint: { busy: result.busy, walFrames: result.walFrames, walBytesBefore: walBefore, walBytesAfter: walAfter },
      },
    };
  },
};
