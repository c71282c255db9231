// `queue restore BACKUP --db PATH` onto a path that does not exist yet, as `init` and `backup` allow.
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { makeTempDir, removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "../src/cli-in-process.js";

afterEach(removeTempDirs);

async function backupOfThreeTasks(): Promise<string> {
  const path = tempDbPath();
  const client = new QueueClient({ path });
  await client.enqueueMany([1, 2, 3].map((n) => ({ type: "t", payload: { n } })));
  await client.close();
  const backup = join(makeTempDir(), "backup.db");
  expect((await cli(["backup", backup, "--db", path])).code).toBe(0);
  return backup;
}

describe("queue restore onto a new path", () => {
  it("creates the missing directories (owner-only) and restores every task", async () => {
    const backup = await backupOfThreeTasks();
    const target = join(makeTempDir(), "new", "dir", "queue.db");
    const restored = await cli(["restore", backup, "--db", target, "--json"]);
    expect(restored.code, restored.stderr).toBe(0);
    expect(JSON.parse(restored.stdout)).toEqual({ tasks: 3 });
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(statSync(join(target, "..")).mode & 0o777).toBe(0o700);
    const db = openQueueDatabase({ path: target, readonly: true });
    expect(db.connection.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 3 });
    db.close();
  });

  it("a path through a file is a usage error in one line that says what is wrong", async () => {
    const backup = await backupOfThreeTasks();
    const file = join(makeTempDir(), "plain-file");
    writeFileSync(file, "not a directory");
    const result = await cli(["restore", backup, "--db", join(file, "queue.db")]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/Cannot create the database file .*plain-file\/queue\.db: .*a file is already there/);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
  });
});
