// Whether file locking works where the queue file lives: a second process must neither see an
// uncommitted write nor get the write lock while this one holds it.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import type { QueueDatabase } from "../database.js";
import { inRolledBackTransaction } from "./diagnostics.js";

/** What the other process saw, or why the probe could not run. */
export type WriteIsolationProbe =
  | { readonly ran: true; readonly sawUncommittedWrite: boolean; readonly gotWriteLock: boolean }
  | { readonly ran: false; readonly problem: string };

/**
 * Run by the other process: counts the uncommitted marker row and tries to take the write lock
 * without waiting.
 */
const OTHER_PROCESS_PROBE = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2], { timeout: 0 });
const seen = db.prepare("SELECT count(*) AS n FROM queue_pauses WHERE type = 'queue-validation-isolation'").get().n;
let locked = false;
try { db.exec("BEGIN IMMEDIATE"); db.exec("ROLLBACK"); } catch (error) { locked = error.code === "SQLITE_BUSY"; }
db.close();
process.stdout.write(JSON.stringify({ seen, locked }));`;

/**
 * Writes a marker row in a transaction of `writer` and, while it is open, asks a child process
 * (file locking between processes is what is tested, not two connections of one process) what it
 * sees; then rolls the write back. Needs a file: an in-memory database has no second connection.
 */
export function probeWriteIsolation(writer: QueueDatabase): WriteIsolationProbe {
  return inRolledBackTransaction(writer, (tx): WriteIsolationProbe => {
    tx.statement("INSERT INTO queue_pauses (type, paused_at) VALUES ('queue-validation-isolation', 0)").run();
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    const child = spawnSync(process.execPath, ["-e", OTHER_PROCESS_PROBE, driver, writer.path], { encoding: "utf8", timeout: 15_000 });
    if (child.status !== 0) {
      const problem = child.error?.message ?? child.stderr.trim().split("\n").pop() ?? `exit ${child.status}`;
      return { ran: false, problem: problem.slice(0, 300) };
    }
    const seen = JSON.parse(child.stdout) as { seen: number; locked: boolean };
    return { ran: true, sawUncommittedWrite: seen.seen !== 0, gotWriteLock: !seen.locked };
  });
}
