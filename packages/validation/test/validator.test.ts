import { copyFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { openQueueDatabase, SCHEMA_VERSION, TestClock } from "@queue/core";
import { priority } from "@queue/scheduling";
import { makeTempDir, removeTempDirs, spawnTypeScript, tempDbPath } from "@queue/test-support";
import { formatReport, QueueValidator, quickValidate, validateWorkerIntegration } from "@queue/validation";
import { claim } from "@queue/worker-engine";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

function seeded(count = 100): string {
  const path = tempDbPath();
  const db = openQueueDatabase({ path });
  db.transactionSync((tx) => {
    const insert = tx.statement("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('work', '{}', 0, 0, 0)");
    for (let n = 0; n < count; n++) insert.run();
  });
  db.close();
  return path;
}

const statusOf = (report: { checks: readonly { name: string; status: string }[] }, name: string) =>
  report.checks.find((check) => check.name === name)?.status;

describe("QueueValidator", () => {
  it("passes every check on a healthy file and leaves nothing behind", async () => {
    const path = seeded(10);
    const before = statSync(path).size;
    const report = await new QueueValidator(path).validateAll();
    expect(report.status).toBe("pass");
    expect(report.checks.map((check) => check.name)).toEqual([
      "configuration",
      "connection",
      "schema",
      "integrity",
      "query plans",
      "leases",
      "workers",
      "pragmas",
      "model round trip",
      "transaction isolation",
      "error handling",
    ]);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 10 });
    expect(db.prepare("SELECT count(*) AS n FROM queue_pauses").get()).toEqual({ n: 0 });
    db.close();
    expect(statSync(path).size).toBeLessThanOrEqual(before + 4096);
    const text = formatReport(report);
    expect(text).toContain("PASS  schema");
    expect(text).toContain("11 passed, 0 warned, 0 failed");
    expect(JSON.parse(JSON.stringify(report))).toMatchObject({ status: "pass", path });
  });

  it("validates a file while a worker process works it, without disturbing the work", async () => {
    const path = seeded(1_500);
    const worker = spawnTypeScript(fileURLToPath(new URL("./fixtures/busy-worker.ts", import.meta.url)), [path, "1500"]);
    const report = await new QueueValidator(path).validateAll();
    const result = await worker.done;
    expect(result.stderr).toBe("");
    expect(report.checks.filter((check) => check.status === "fail")).toEqual([]);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT status, count(*) AS n FROM tasks GROUP BY status").all()).toEqual([{ status: "completed", n: 1_500 }]);
    db.close();
  });

  it("fails the pragmas check on a file that is not in WAL mode, and names a dropped index", async () => {
    const path = seeded(1);
    const raw = new Database(path);
    raw.pragma("journal_mode = delete");
    raw.exec("DROP INDEX tasks_queued_by_priority");
    raw.close();
    const report = await new QueueValidator(path).validateAll();
    const pragmas = report.checks.find((check) => check.name === "pragmas");
    expect(pragmas).toMatchObject({ status: "fail", message: "journal_mode is delete, not wal" });
    const plans = report.checks.find((check) => check.name === "query plans");
    expect(plans?.status).toBe("fail");
    expect(plans?.message).toMatch(/index tasks_queued_by_priority is missing/);
    expect(plans?.hint).toMatch(/an index is missing/);
    // The write checks ran, and left the file in the journal mode it was found in.
    expect(report.checks.find((check) => check.name === "model round trip")?.status).toBe("pass");
    const after = new Database(path, { readonly: true });
    expect(after.pragma("journal_mode", { simple: true })).toBe("delete");
    after.close();
  });

  it("refuses to validate a fresh in-memory database by path, with a hint", async () => {
    const report = await new QueueValidator(":memory:").validateAll();
    expect(report.status).toBe("fail");
    expect(report.checks).toEqual([
      expect.objectContaining({ name: "configuration", status: "fail", message: "a new in-memory database has nothing to validate" }),
    ]);
  });

  it("skips the isolation check, with a warning, for an open in-memory database", async () => {
    const db = openQueueDatabase({ path: ":memory:" });
    const report = await new QueueValidator(db).validateAll();
    expect(report.checks.find((check) => check.name === "transaction isolation")).toMatchObject({
      status: "warn",
      message: "not run: an in-memory database has no second connection",
    });
    expect(statusOf(report, "schema")).toBe("pass");
    db.close();
  });

  it("warns about expired leases and stale workers, with hints", async () => {
    const path = tempDbPath();
    const clock = new TestClock(Date.UTC(2030, 0, 1));
    const db = openQueueDatabase({ path, clock });
    await new QueueClient({ db }).enqueue("t", null);
    db.transactionSync((tx) => claim(tx, { workerId: "gone", strategy: priority, leaseMs: 1_000, limit: 1, capabilities: [] }));
    db.transactionSync((tx) =>
      tx.statement("INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES ('gone', 'h', 1, 0, 0)").run(),
    );
    clock.advance(3_600_000);
    const report = await new QueueValidator(db).validateAll();
    expect(report.status).toBe("warn");
    expect(statusOf(report, "leases")).toBe("warn");
    expect(statusOf(report, "workers")).toBe("warn");
    expect(report.checks.find((check) => check.name === "workers")?.hint).toContain("cleanupStaleWorkers");
    db.close();
  });

  it("fails clearly on a missing file, a directory, a non-database, a newer schema, and a damaged copy, changing none", async () => {
    const directory = makeTempDir();
    const notDb = join(directory, "notes.db");
    writeFileSync(notDb, "hello ".repeat(500));
    const newer = seeded(1);
    const raw = new Database(newer);
    raw.prepare("INSERT INTO queue_migrations (version, name, applied_at) VALUES (?, 'future', 0)").run(SCHEMA_VERSION + 1);
    raw.close();
    const damaged = join(directory, "damaged.db");
    copyFileSync(seeded(20_000), damaged);
    truncateSync(damaged, Math.floor(statSync(damaged).size / 2));
    const cases: [string, string, RegExp][] = [
      [join(directory, "missing.db"), "configuration", /does not exist/],
      [directory, "configuration", /is a directory/],
      [notDb, "connection", /not a (SQLite )?database/],
      [newer, "connection", /newer|only up to/],
    ];
    for (const [path, failing, message] of cases) {
      const before = statSync(path, { throwIfNoEntry: false })?.mtimeMs;
      const report = await new QueueValidator(path).validateAll();
      expect(report.status, path).toBe("fail");
      const check = report.checks.find((entry) => entry.name === failing);
      expect(check?.status, path).toBe("fail");
      expect(check?.message, path).toMatch(message);
      expect(statSync(path, { throwIfNoEntry: false })?.mtimeMs, path).toBe(before);
    }
    const report = await new QueueValidator(damaged).validateAll();
    expect(report.status).toBe("fail");
    expect(
      report.checks
        .filter((check) => check.status === "fail")
        .map((check) => check.name)
        .join(" "),
    ).toMatch(/connection|integrity|schema/);
  });
});

describe("quickValidate and the worker round trip", () => {
  it("runs all checks, a real round trip and a small benchmark on a temporary file", async () => {
    const report = await quickValidate();
    expect(report.status).toBe("pass");
    expect(report.checks.at(-1)).toMatchObject({ name: "worker integration", status: "pass" });
    expect(report.performance.insertsPerSecond).toBeGreaterThan(0);
    expect(report.performance.selectsPerSecond).toBeGreaterThan(0);
    expect(report.performance.updatesPerSecond).toBeGreaterThan(0);
  });

  it("round-trips on a live file; its probe task never gives its id to a later task", async () => {
    const path = seeded(5);
    const db = openQueueDatabase({ path });
    const result = await validateWorkerIntegration(db);
    expect(result.status).toBe("pass");
    // The probe (id 6) is the newest task: deleting it would hand id 6 to the next task.
    expect(db.statement("SELECT id, status FROM tasks WHERE id > 5").all()).toEqual([{ id: 6, status: "completed" }]);
    const client = new QueueClient({ db });
    expect((await client.enqueue("after", {})).task.id).toBe(7);
    // A second run deletes the first probe, now that a newer task exists, and keeps its own (the newest).
    expect((await validateWorkerIntegration(db)).status).toBe("pass");
    expect(db.statement("SELECT id FROM tasks WHERE id > 5").all()).toEqual([{ id: 7 }, { id: 8 }]);
    db.close();
  });

  it("on an empty file, the task enqueued after a probe does not reuse the probe's id", async () => {
    const db = openQueueDatabase({ path: tempDbPath() });
    expect((await validateWorkerIntegration(db)).status).toBe("pass");
    expect((await new QueueClient({ db }).enqueue("first-real", {})).task.id).toBe(2);
    db.close();
  });
});
