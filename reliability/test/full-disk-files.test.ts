// Files the queue writes before it deletes or replaces data (the cleanup archive, the archive
// export, the run registry), written onto a real full disk: a small tmpfs mounted for the test.
// Every task must end up in the database or, whole, in the file; nothing in neither.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QueueClient } from "@queue/client";
import { isQueueError, openQueueDatabase, type QueueDatabase } from "@queue/core";
import { RunRegistry } from "@queue/integration";
import { cleanup, exportArchive } from "@queue/maintenance";
import { makeTempDir, removeTempDirs, tempDbPath } from "@queue/test-support";
import { Worker } from "@queue/worker-engine";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../src/cli-in-process.js";

const isRoot = process.getuid?.() === 0;
let mount = "";

beforeAll(() => {
  if (!isRoot) return;
  mount = makeTempDir("queue-tmpfs-");
  // Mounting needs root; the suite runs as root in CI, where this must work (a failure fails the suite).
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", mount]);
});
afterAll(() => {
  if (mount !== "") execFileSync("umount", [mount]);
  removeTempDirs();
});

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  if (mount !== "") for (const name of readdirSync(mount)) rmSync(join(mount, name), { recursive: true, force: true });
});

/** Fills the tmpfs so that only about `freeBytes` stay free. */
function leaveFree(freeBytes: number): void {
  const stats = statfsSync(mount);
  const available = stats.bavail * stats.bsize;
  writeFileSync(join(mount, "filler"), Buffer.alloc(Math.max(0, available - freeBytes)));
}
const freeSpace = () => rmSync(join(mount, "filler"), { force: true });

/**
 * A database (on the ordinary disk) holding `count` completed tasks whose records are about 1 KB
 * each. Cleanup always keeps the newest task (so ids are never reused): `count - 1` can go.
 */
async function completedTasks(count: number): Promise<{ path: string; db: QueueDatabase; ids: number[] }> {
  const path = tempDbPath();
  const db = openQueueDatabase({ path });
  closers.push(() => db.close());
  const client = new QueueClient({ db });
  const tasks = await client.enqueueMany(
    Array.from({ length: count }, (_, n) => ({ type: "report", payload: { n, text: "x".repeat(700) } })),
  );
  const worker = new Worker({ db, concurrency: 32, handlers: { report: async (payload: { n: number }) => ({ n: payload.n }) } });
  await worker.runUntilEmpty();
  await new Promise((resolve) => setTimeout(resolve, 5)); // so "older than 1ms" takes every one
  return { path, db, ids: tasks.map((result) => result.task.id) };
}

/** Every line of the archive parsed (a torn line fails the parse), as task ids. */
function archivedIds(file: string): number[] {
  if (!existsSync(file)) return [];
  const text = readFileSync(file, "utf8");
  expect(text === "" || text.endsWith("\n"), "the archive ends with a whole line").toBe(true);
  return text
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => (JSON.parse(line) as { id: number }).id);
}

const remainingIds = (db: QueueDatabase) =>
  db.connection
    .prepare("SELECT id FROM tasks ORDER BY id")
    .all()
    .map((row) => (row as { id: number }).id);

/** Checks that each task is in exactly one place, and returns the figures. */
function account(db: QueueDatabase, file: string, ids: readonly number[]) {
  const archived = archivedIds(file);
  const remaining = remainingIds(db);
  expect(new Set(archived).size, "no task archived twice").toBe(archived.length);
  expect(
    archived.filter((id) => remaining.includes(id)),
    "no task both archived and still in the database",
  ).toEqual([]);
  expect(
    [...archived, ...remaining].sort((a, b) => a - b),
    "every task is in the database or the archive",
  ).toEqual([...ids].sort((a, b) => a - b));
  return { archived: archived.length, deleted: ids.length - remaining.length, remaining: remaining.length, lost: 0 };
}

describe.runIf(isRoot)("files written before data is deleted, on a full disk (tmpfs)", () => {
  it("queue cleanup --archive with 64 KiB free stops with a disk-full error, loses no task, and finishes once space returns", async () => {
    const { path, db, ids } = await completedTasks(300);
    const file = join(mount, "archive.ndjson");
    leaveFree(64 * 1024);
    const full = await cli(["cleanup", "--completed-older-than", "1ms", "--archive", file, "--db", path]);
    expect(full.code).toBe(1);
    expect(full.stderr).toMatch(/disk is full/);
    expect(full.stderr).toMatch(/still in the database/);
    expect(full.stderr).not.toMatch(/^\s+at /m); // one message, not a stack
    const figures = account(db, file, ids);
    expect(figures.remaining).toBeGreaterThan(0);
    console.log(`full-disk archive, 64 KiB free: ${JSON.stringify(figures)}`);

    freeSpace();
    const again = await cli(["cleanup", "--completed-older-than", "1ms", "--archive", file, "--db", path]);
    expect(again.code).toBe(0);
    expect(account(db, file, ids)).toMatchObject({ archived: 299, deleted: 299, remaining: 1 });
  });

  it("cleanup over several batches with 100 KiB free archives whole batches only, with a typed DISK_FULL", async () => {
    const { db, ids } = await completedTasks(400);
    const file = join(mount, "archive.ndjson");
    leaveFree(100 * 1024);
    const error = await cleanup(db, { completedOlderThanMs: 1, archiveFile: file, batchSize: 40 }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(isQueueError(error, "DISK_FULL"), String(error)).toBe(true);
    const figures = account(db, file, ids);
    expect(figures.archived % 40, "only whole batches are archived").toBe(0);
    expect(figures.archived).toBeGreaterThan(0);
    console.log(`full-disk archive, 100 KiB free, batches of 40: ${JSON.stringify(figures)}`);
    freeSpace();
    await cleanup(db, { completedOlderThanMs: 1, archiveFile: file, batchSize: 40 });
    expect(account(db, file, ids)).toMatchObject({ archived: 399, remaining: 1 });
  });

  it("a torn last line left in the archive is cut off before the next batch, so every line parses", async () => {
    const { db, ids } = await completedTasks(20);
    const file = join(mount, "archive.ndjson");
    writeFileSync(file, '{"id":-1}\n{"id":-2,"type":"to');
    await cleanup(db, { completedOlderThanMs: 1, archiveFile: file });
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    expect(lines.map((line) => (JSON.parse(line) as { id: number }).id)).toEqual([-1, ...ids.slice(0, -1)]);
  });

  it("exportArchive onto a full disk fails with DISK_FULL, leaves the previous export as it was and no partial file", async () => {
    const { db } = await completedTasks(200);
    await cleanup(db, { completedOlderThanMs: 1, archive: true });
    const file = join(mount, "export.ndjson");
    writeFileSync(file, "previous export\n");
    leaveFree(32 * 1024);
    const error = await exportArchive(db, file).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(isQueueError(error, "DISK_FULL"), String(error)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe("previous export\n");
    expect(readdirSync(mount).sort()).toEqual(["export.ndjson", "filler"]);
    freeSpace();
    expect(await exportArchive(db, file)).toBe(199);
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean)).toHaveLength(199);
  });

  it("a run registry saved onto a full disk fails with DISK_FULL and keeps its previous history whole", () => {
    const directory = join(mount, "runs");
    mkdirSync(directory);
    const file = join(directory, "runs.json");
    const registry = new RunRegistry({ file });
    registry.add({ id: "run-1", moduleId: "m", status: "queued", createdAt: new Date().toISOString(), parameters: {} });
    registry.save();
    const before = readFileSync(file, "utf8");
    leaveFree(8 * 1024);
    const error = (() => {
      try {
        registry.changeDurably(() => {
          for (let n = 2; n < 200; n++)
            registry.add({
              id: `run-${n}`,
              moduleId: "m",
              status: "queued",
              createdAt: new Date().toISOString(),
              parameters: { pad: "y".repeat(200) },
            });
        });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(isQueueError(error, "DISK_FULL"), String(error)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(registry.all().map((run) => run.id)).toEqual(["run-1"]); // the changes were undone too
    expect(readdirSync(directory)).toEqual(["runs.json"]);
  });
});
