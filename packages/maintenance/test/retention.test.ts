import { readFileSync } from "node:fs";
import { join } from "node:path";
import { selectTaskLogs } from "@queue/core";
import { cleanup, exportArchive, restoreFromArchive } from "@queue/maintenance";
import { makeTempDir } from "@queue/test-support";
import { describe, expect, it } from "vitest";
import { DAY, harness, insertFinished } from "./helpers.js";

describe("cleanup", () => {
  it("removes finished tasks and logs by age, per status, in batches, keeping the recent ones", async () => {
    const { db, clock, client } = harness();
    const old = insertFinished(db, 25, "completed", clock.now() - 10 * DAY);
    insertFinished(db, 5, "dead_letter", clock.now() - 10 * DAY);
    insertFinished(db, 3, "cancelled", clock.now() - 10 * DAY);
    const recent = insertFinished(db, 4, "completed", clock.now() - DAY);
    await db.transaction((tx) =>
      tx
        .statement("INSERT INTO task_logs (task_id, at, level, message) VALUES (?, ?, 'info', 'old')")
        .run(recent[0], clock.now() - 40 * DAY),
    );
    const { task: queued } = await client.enqueue("t", null);
    const report = await cleanup(db, {
      completedOlderThanMs: 7 * DAY,
      deadLetterOlderThanMs: 30 * DAY,
      logsOlderThanMs: 30 * DAY,
      batchSize: 10,
    });
    expect(report).toMatchObject({ completed: 25, deadLetter: 0, cancelled: 0, logs: 1, archived: 0, dryRun: false });
    expect(report.batches).toBeGreaterThanOrEqual(4);
    expect(await client.get(old[0] as number)).toBeUndefined();
    expect(await client.get(recent[0] as number)).toBeDefined();
    expect(await client.counts()).toEqual({ queued: 1, leased: 0, completed: 4, dead_letter: 5, cancelled: 3 });
    expect((await client.get(queued.id))?.status).toBe("queued");
  });

  it("a dry run counts what would go and changes nothing", async () => {
    const { db, clock, client } = harness();
    insertFinished(db, 12, "completed", clock.now() - 10 * DAY);
    await client.enqueue("t", null);
    const report = await cleanup(db, { completedOlderThanMs: DAY, logsOlderThanMs: DAY, dryRun: true });
    expect(report).toMatchObject({ completed: 12, logs: 0, dryRun: true, batches: 0 });
    expect((await client.counts()).completed).toBe(12);
  });

  it("never removes the newest task, so task ids are not reused after a cleanup", async () => {
    const { db, clock, client } = harness();
    const ids = insertFinished(db, 5, "completed", clock.now() - 10 * DAY);
    await cleanup(db, { completedOlderThanMs: DAY });
    expect((await client.list()).tasks.map((task) => task.id)).toEqual([ids[4]]);
    const { task } = await client.enqueue("t", null);
    expect(task.id).toBeGreaterThan(ids[4] as number);
  });

  it("archives removed tasks with their logs, writes them to NDJSON first, and restores them", async () => {
    const { db, clock, client } = harness();
    const [first, second] = insertFinished(db, 3, "dead_letter", clock.now() - 10 * DAY, { error: '{"name":"Error","message":"boom"}' });
    await db.transaction((tx) =>
      tx
        .statement("INSERT INTO task_logs (task_id, at, level, message, details) VALUES (?, ?, 'error', 'it broke', '{\"code\":7}')")
        .run(first, clock.now()),
    );
    const file = join(makeTempDir(), "archive.ndjson");
    const report = await cleanup(db, { deadLetterOlderThanMs: DAY, archive: true, archiveFile: file });
    expect(report).toMatchObject({ deadLetter: 2, archived: 2 });
    const lines = readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id)).toEqual([first, second]);
    expect(lines[0]).toMatchObject({
      status: "dead_letter",
      payload: { n: 0 },
      error: { message: "boom" },
      logs: [{ level: "error", message: "it broke", details: { code: 7 } }],
    });
    expect(selectTaskLogs(db, first as number)).toEqual([]);

    const exported = join(makeTempDir(), "export.ndjson");
    expect(await exportArchive(db, exported)).toBe(2);
    const archived = readFileSync(exported, "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(archived[0]).toMatchObject({
      id: first,
      status: "dead_letter",
      logs: [{ message: "it broke" }],
      archivedAt: expect.any(String),
    });

    const restored = await restoreFromArchive(db, { ids: [first as number] });
    expect(restored).toEqual({ restored: [first], remainingInArchive: 1 });
    expect(await client.get(first as number)).toMatchObject({ status: "dead_letter", payload: { n: 0 }, error: { message: "boom" } });
  });

  it("rejects a bad policy before touching anything", async () => {
    const { db } = harness();
    await expect(cleanup(db, { completedOlderThanMs: -1 })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    await expect(cleanup(db, { batchSize: 0 })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
  });
});
