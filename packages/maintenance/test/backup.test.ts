import { chmodSync, copyFileSync, existsSync, readdirSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { openQueueDatabase, SCHEMA_VERSION } from "@queue/core";
import {
  backup,
  backupFileName,
  cleanup,
  listBackups,
  pruneBackups,
  restoreBackup,
  runMaintenance,
  verifyBackup,
} from "@queue/maintenance";
import { makeTempDir, spawnTypeScript, tempDbPath } from "@queue/test-support";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { DAY, harness, insertFinished } from "./helpers.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("maintenance while worker processes run", () => {
  it("a large cleanup and a backup proceed in short batches while two worker processes keep completing tasks", async () => {
    const path = tempDbPath();
    const db = openQueueDatabase({ path });
    insertFinished(db, 60_000, "completed", db.clock.now() - 10 * DAY);
    const client = new QueueClient({ db });
    const total = 3_000;
    const workers = [0, 1].map(() => spawnTypeScript(fixture("worker.ts"), [path, String(total)]));
    const producing = client.enqueueMany(Array.from({ length: total }, (_, n) => ({ type: "work", payload: n })));
    const report = await cleanup(db, { completedOlderThanMs: DAY, batchSize: 500 });
    const copy = await backup(db, join(makeTempDir(), "during-work.db"));
    await producing;
    const results = await Promise.all(workers.map((worker) => worker.done));
    for (const result of results) {
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout).errors).toEqual([]);
    }
    expect(results.reduce((sum, result) => sum + JSON.parse(result.stdout).ran, 0)).toBe(total);
    expect(report.completed).toBeGreaterThanOrEqual(59_999);
    expect(report.batches).toBeGreaterThan(100);
    expect(verifyBackup(copy.file)).toMatchObject({ ok: true, schemaVersion: SCHEMA_VERSION });
    expect(await client.counts()).toMatchObject({ completed: total, queued: 0, leased: 0 });
    await client.close();
    db.close();
  });
});

describe("backup and restore", () => {
  it("backs up to an owner-only verified file, lists and prunes backups by count", async () => {
    const { db, client } = harness();
    await client.enqueue("t", { keep: "me" });
    const directory = makeTempDir();
    const files: string[] = [];
    for (let n = 0; n < 3; n++) {
      const at = new Date(Date.UTC(2030, 0, 1 + n));
      const result = await backup(db, join(directory, backupFileName(db.path, at)));
      expect(result.bytes).toBeGreaterThan(0);
      expect(statSync(result.file).mode & 0o777).toBe(0o600);
      files.push(result.file);
    }
    expect(listBackups(directory, db.path).map((entry) => entry.file)).toEqual(files);
    expect(pruneBackups(directory, db.path, 2)).toEqual([files[0]]);
    expect(listBackups(directory, db.path)).toHaveLength(2);
    await expect(backup(db, files[1] as string)).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(() => pruneBackups(directory, db.path, 0)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("prunes only this database's backups, with their -wal and -shm files, and writes backups owner-only from the start", async () => {
    const { db } = harness();
    const directory = makeTempDir();
    const modes: number[] = [];
    const made = [];
    for (let n = 0; n < 2; n++) {
      const file = join(directory, backupFileName(db.path, new Date(Date.UTC(2030, 0, 1 + n))));
      const inProgress = () => readdirSync(directory).filter((name) => name.endsWith(".partial"));
      const onProgress = () => void modes.push(...inProgress().map((name) => statSync(join(directory, name)).mode & 0o777));
      made.push((await backup(db, file, { onProgress })).file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
    }
    expect(new Set(modes)).toEqual(new Set([0o600]));
    const bystanders = ["queue-staging.db", "queue-staging-2020-01-01T00-00-00-000Z.db", "queue-notes.db"].map((name) =>
      join(directory, name),
    );
    for (const file of bystanders) writeFileSync(file, "not mine");
    writeFileSync(`${made[0]}-wal`, "");
    expect(listBackups(directory, db.path).map((entry) => entry.file)).toEqual(made);
    expect(pruneBackups(directory, db.path, 1)).toEqual([made[0]]);
    expect(existsSync(`${made[0]}-wal`)).toBe(false);
    for (const file of bystanders) expect(existsSync(file)).toBe(true);
    await expect(restoreBackup(made[1] as string, made[1] as string, { force: true })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("prunes the .partial files of backups that died a day ago or more, and leaves recent ones (a backup may be running)", async () => {
    const { db } = harness();
    const directory = makeTempDir();
    const kept = join(directory, backupFileName(db.path, new Date(Date.UTC(2030, 0, 1))));
    await backup(db, kept);
    const stale = `${join(directory, backupFileName(db.path, new Date(Date.UTC(2030, 0, 2))))}.0a1b2c3d.partial`;
    const recent = `${join(directory, backupFileName(db.path, new Date(Date.UTC(2030, 0, 3))))}.4e5f6a7b.partial`;
    const otherDatabase = join(directory, "other-2030-01-02T00-00-00-000Z.db.0a1b2c3d.partial");
    for (const file of [stale, `${stale}-journal`, recent, otherDatabase]) writeFileSync(file, "");
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 60 * 60 * 1000);
    for (const file of [stale, otherDatabase]) utimesSync(file, twoDaysAgo, twoDaysAgo);
    expect(pruneBackups(directory, db.path, 1)).toEqual([stale]);
    expect([stale, `${stale}-journal`].some(existsSync)).toBe(false);
    for (const file of [kept, recent, otherDatabase]) expect(existsSync(file)).toBe(true);
  });

  it("a backup in progress is never under its final name, so a crash mid-backup cannot leave a partial file that passes for a backup", async () => {
    const { db } = harness();
    insertFinished(db, 3_000, "completed", 0);
    const directory = makeTempDir();
    const file = join(directory, backupFileName(db.path, new Date(Date.UTC(2030, 0, 1))));
    const seen: { final: boolean; listed: number; partial: string[] }[] = [];
    await backup(db, file, {
      onProgress: () =>
        void seen.push({
          final: existsSync(file),
          listed: listBackups(directory, db.path).length,
          partial: readdirSync(directory).filter((name) => name.endsWith(".partial")),
        }),
    });
    expect(seen.length).toBeGreaterThan(0);
    for (const moment of seen) expect(moment).toMatchObject({ final: false, listed: 0, partial: [expect.any(String)] });
    expect(readdirSync(directory)).toEqual([basename(file)]);
    expect(verifyBackup(file)).toMatchObject({ ok: true, tasks: 3_000 });
  });

  it("restores a backup, refusing while a worker is alive on the target unless forced", async () => {
    const { db, client } = harness();
    const { task } = await client.enqueue("t", { from: "backup" });
    const saved = (await backup(db, join(makeTempDir(), "saved.db"))).file;
    await client.enqueue("t", { after: "backup" });
    db.transactionSync((tx) =>
      tx
        .statement("INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES ('alive', 'h', 1, ?, ?)")
        .run(Date.now(), Date.now()),
    );
    await expect(restoreBackup(saved, db.path)).rejects.toMatchObject({ code: "INVALID_STATE", message: expect.stringContaining("alive") });
    expect(await restoreBackup(saved, db.path, { force: true })).toEqual({ tasks: 1 });
    expect((await client.list()).tasks.map((t) => t.id)).toEqual([task.id]);
  });

  it("refuses to restore or trusts no backup that is missing, not a database, corrupt or from a newer schema", async () => {
    const directory = makeTempDir();
    const target = tempDbPath();
    openQueueDatabase({ path: target }).close();
    const notDb = join(directory, "notes.db");
    writeFileSync(notDb, "not a database at all ".repeat(100));
    const good = tempDbPath();
    const seeded = openQueueDatabase({ path: good });
    insertFinished(seeded, 2_000, "completed", 0);
    seeded.close();
    const truncated = join(directory, "truncated.db");
    copyFileSync(good, truncated);
    truncateSync(truncated, Math.floor(statSync(truncated).size / 3));
    const newer = tempDbPath();
    openQueueDatabase({ path: newer }).close();
    const raw = new Database(newer);
    raw.prepare("INSERT INTO queue_migrations (version, name, applied_at) VALUES (?, 'future', 0)").run(SCHEMA_VERSION + 1);
    raw.close();
    for (const source of [join(directory, "missing.db"), notDb, truncated, newer]) {
      const verdict = verifyBackup(source);
      expect(verdict.ok, source).toBe(false);
      expect(verdict.problems.join(" "), source).not.toBe("");
      await expect(restoreBackup(source, target), source).rejects.toMatchObject({ code: expect.stringMatching(/CORRUPT|SCHEMA_TOO_NEW/) });
    }
    expect(existsSync(join(directory, "missing.db"))).toBe(false);
  });

  it("backs up a database this process can only read", async () => {
    const path = tempDbPath();
    const seeded = openQueueDatabase({ path });
    insertFinished(seeded, 10, "completed", 0);
    seeded.close();
    chmodSync(path, 0o444);
    const readonly = openQueueDatabase({ path, readonly: true });
    const result = await backup(readonly, join(makeTempDir(), "from-readonly.db"));
    expect(verifyBackup(result.file)).toMatchObject({ ok: true, tasks: 10 });
    readonly.close();
  });
});

describe("runMaintenance", () => {
  it("runs the jobs that are due, records them in the file, and skips them until due again", async () => {
    const { db, clock } = harness();
    const backups = makeTempDir();
    const policy = { backup: { every: "daily" as const, directory: backups, keep: 2 } };
    const first = await runMaintenance(db, policy);
    expect(first.filter((job) => job.ran).map((job) => job.job)).toEqual(["checkpoint", "backup", "optimize", "logCleanup", "vacuum"]);
    expect(first.every((job) => job.error === undefined)).toBe(true);
    expect((await runMaintenance(db, policy)).some((job) => job.ran)).toBe(false);
    clock.advance(DAY);
    expect((await runMaintenance(db, policy)).filter((job) => job.ran).map((job) => job.job)).toEqual(["checkpoint", "backup"]);
    clock.advance(7 * DAY);
    expect((await runMaintenance(db, policy)).filter((job) => job.ran).map((job) => job.job)).toEqual([
      "checkpoint",
      "backup",
      "optimize",
      "logCleanup",
    ]);
    expect(listBackups(backups, db.path)).toHaveLength(2);
    expect((await runMaintenance(db, policy, { force: ["vacuum"] })).filter((job) => job.ran).map((job) => job.job)).toEqual(["vacuum"]);
    await expect(runMaintenance(db, { optimize: "sometimes" as never })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
  });
});
