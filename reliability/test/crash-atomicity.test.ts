import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS, openQueueDatabase, runMigrations, SCHEMA_VERSION } from "@queue/core";
import { listBackups, verifyBackup } from "@queue/maintenance";
import { makeTempDir, removeTempDirs } from "@queue/test-support";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import {
  copyDatabase,
  crashTrials,
  killDuring,
  makeCompletedFile,
  makeLargeFile,
  makeOldSchemaFile,
  runToCompletion,
  schemaOf,
} from "../src/crash-fixtures.js";

// Each operation is measured, then killed with SIGKILL at moments spread over its length, until
// TRIALS kills have landed while it was in progress. After each kill the file must open, pass
// integrity_check, and show the operation entirely done or not at all.
const TRIALS = Number(process.env.CRASH_TRIALS ?? "3");

afterAll(() => removeTempDirs());

function inspect(path: string): { integrity: string; counts: Record<string, number>; archived: number; version: number } {
  // Opening through the queue proves the file opens (and recovers its WAL) the normal way.
  const db = openQueueDatabase({ path });
  const version = db.schemaVersion();
  const connection = db.connection;
  const integrity = String(connection.pragma("integrity_check", { simple: true }));
  const counts = Object.fromEntries(
    (connection.prepare("SELECT status, count(*) AS n FROM tasks GROUP BY status").all() as { status: string; n: number }[]).map((row) => [
      row.status,
      row.n,
    ]),
  );
  const archived = (connection.prepare("SELECT count(*) AS n FROM tasks_archive").get() as { n: number }).n;
  db.close();
  return { integrity, counts, archived, version };
}

describe("crash atomicity: SIGKILL in the middle of a long operation", () => {
  const dir = makeTempDir("crash-");
  const summaries: string[] = [];
  afterAll(() => {
    for (const summary of summaries) console.log(summary);
  });

  it("an enqueueMany of 200,000 tasks leaves 0 or all of them", async () => {
    const count = Number(process.env.CRASH_ENQUEUE_COUNT ?? "200000");
    const template = join(dir, "empty.db");
    openQueueDatabase({ path: template }).close();
    const calibration = join(dir, "enqueue-calibration.db");
    copyDatabase(template, calibration);
    // Estimated from a tenth of the items (the call is linear in them); trials correct it.
    const { ms } = await runToCompletion(["enqueue-many", calibration, String(count / 10)]);
    expect(inspect(calibration).counts).toEqual({ queued: count / 10 });
    const result = await crashTrials(
      ms * 10,
      TRIALS,
      (attempt, delay) => {
        const path = join(dir, `enqueue-${attempt}.db`);
        copyDatabase(template, path);
        return killDuring(["enqueue-many", path, String(count)], delay);
      },
      (attempt, run) => {
        const state = inspect(join(dir, `enqueue-${attempt}.db`));
        expect(state.integrity).toBe("ok");
        const rows = state.counts.queued ?? 0;
        expect(Object.keys(state.counts).filter((status) => status !== "queued")).toEqual([]);
        expect(run.finished ? [count] : [0, count]).toContain(rows);
        if (!run.finished) expect(run.signal).toBe("SIGKILL");
        return `${rows} rows`;
      },
    );
    summaries.push(`crash enqueueMany(${count}): ${result.outcomes.join("; ")}`);
    expect(result.landed).toBe(TRIALS);
  }, 120_000);

  it("a batched cleanup removes (and archives) whole batches only", async () => {
    const completed = 60_000;
    const batch = 1_000;
    const template = join(dir, "completed.db");
    makeCompletedFile(template, completed);
    const calibration = join(dir, "cleanup-calibration.db");
    copyDatabase(template, calibration);
    const { ms } = await runToCompletion(["cleanup", calibration, String(batch)]);
    expect(inspect(calibration)).toMatchObject({ counts: { queued: 1 }, archived: completed });
    const result = await crashTrials(
      ms,
      TRIALS,
      (attempt, delay) => {
        const path = join(dir, `cleanup-${attempt}.db`);
        copyDatabase(template, path);
        return killDuring(["cleanup", path, String(batch)], delay);
      },
      (attempt, run) => {
        const state = inspect(join(dir, `cleanup-${attempt}.db`));
        expect(state.integrity).toBe("ok");
        const removed = completed - (state.counts.completed ?? 0);
        expect(removed % batch).toBe(0);
        expect(state.archived).toBe(removed);
        expect(state.counts.queued).toBe(1);
        if (run.finished) expect(removed).toBe(completed);
        return `${removed / batch} of ${completed / batch} batches removed and archived`;
      },
    );
    summaries.push(`crash cleanup(${completed} rows, batches of ${batch}, ${ms} ms): ${result.outcomes.join("; ")}`);
    expect(result.landed).toBe(TRIALS);
  }, 120_000);

  it("a backup leaves either nothing under the backup's name or a complete, verified copy", async () => {
    const source = join(dir, "large.db");
    makeLargeFile(source, 100_000, 400);
    const tasks = inspect(source).counts.queued;
    const calibrationDir = makeTempDir("backup-");
    const calibrationFile = join(calibrationDir, "large-2030-01-01T00-00-00-000Z.db");
    const { ms } = await runToCompletion(["backup", source, calibrationFile]);
    expect(verifyBackup(calibrationFile)).toMatchObject({ ok: true, tasks });
    expect(listBackups(calibrationDir, source).map((entry) => entry.file)).toEqual([calibrationFile]);
    const destinations: string[] = [];
    const result = await crashTrials(
      ms,
      TRIALS,
      (attempt, delay) => {
        // Named as backupFileName names backups of large.db, so listBackups must find a finished one.
        const destination = join(makeTempDir("backup-"), `large-2030-01-${String(attempt + 2).padStart(2, "0")}T00-00-00-000Z.db`);
        destinations[attempt] = destination;
        return killDuring(["backup", source, destination], delay);
      },
      (attempt, run) => {
        const destination = destinations[attempt] as string;
        const directory = join(destination, "..");
        const left = readdirSync(directory);
        if (existsSync(destination)) {
          // Whatever carries the final name must be a whole, valid backup.
          expect(verifyBackup(destination)).toMatchObject({ ok: true, tasks });
          expect(listBackups(directory, source).map((entry) => entry.file)).toEqual([destination]);
        } else {
          expect(run.finished).toBe(false);
          expect(listBackups(directory, source)).toEqual([]);
        }
        // The source is untouched by a killed backup.
        expect(inspect(source)).toMatchObject({ integrity: "ok", counts: { queued: tasks } });
        return existsSync(destination)
          ? "a verified backup under the final name"
          : `nothing under the final name (left: ${left.join(", ")})`;
      },
    );
    summaries.push(`crash backup(${(statSync(source).size / 1e6).toFixed(0)} MB, ${ms} ms): ${result.outcomes.join("; ")}`);
    expect(result.landed).toBe(TRIALS);
  }, 120_000);

  it("a migration of an old-schema file leaves each migration applied entirely or not at all", async () => {
    const rows = 150_000;
    const template = join(dir, "schema-2.db");
    makeOldSchemaFile(template, 2, rows);
    // The schema a file has at each version, from a fresh file migrated that far.
    const expected = new Map<number, string>();
    for (let version = 2; version <= SCHEMA_VERSION; version++) {
      const reference = join(dir, `reference-${version}.db`);
      const db = new Database(reference);
      runMigrations(
        db,
        MIGRATIONS.slice(0, version),
        () => 0,
        (work) => db.transaction(work).immediate(),
      );
      db.close();
      expected.set(version, schemaOf(reference));
    }
    const calibration = join(dir, "migrate-calibration.db");
    copyDatabase(template, calibration);
    const { ms } = await runToCompletion(["migrate", calibration]);
    expect(schemaOf(calibration)).toBe(expected.get(SCHEMA_VERSION));
    const result = await crashTrials(
      ms,
      TRIALS,
      (attempt, delay) => {
        const path = join(dir, `migrate-${attempt}.db`);
        copyDatabase(template, path);
        return killDuring(["migrate", path], delay);
      },
      (attempt) => {
        const path = join(dir, `migrate-${attempt}.db`);
        // Read the state the kill left before anything migrates it further.
        const raw = new Database(path, { readonly: true });
        const version = (raw.prepare("SELECT max(version) AS v FROM queue_migrations").get() as { v: number }).v;
        expect(raw.pragma("integrity_check", { simple: true })).toBe("ok");
        raw.close();
        expect(schemaOf(path)).toBe(expected.get(version));
        // And the next open finishes the job.
        expect(inspect(path)).toMatchObject({ integrity: "ok", version: SCHEMA_VERSION, counts: { queued: rows } });
        expect(schemaOf(path)).toBe(expected.get(SCHEMA_VERSION));
        return `schema version ${version}, then migrated to ${SCHEMA_VERSION} on the next open`;
      },
    );
    summaries.push(`crash migration 2 -> ${SCHEMA_VERSION} (${rows} rows, ${ms} ms): ${result.outcomes.join("; ")}`);
    expect(result.landed).toBe(TRIALS);
  }, 120_000);

  it("the schema comparison tells versions apart", () => {
    const a = join(dir, "compare-2.db");
    const b = join(dir, "compare-3.db");
    makeOldSchemaFile(a, 2, 1);
    makeOldSchemaFile(b, 3, 1);
    expect(schemaOf(a)).not.toBe(schemaOf(b));
  });
});
