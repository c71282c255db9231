import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { backup, cleanup, deadLetterSummary, verifyBackup } from "@queue/maintenance";
import { healthSummary, QueueMetrics, TaskFeed, toPrometheus } from "@queue/observability";
import { makeTempDir, removeTempDirs, spawnTypeScript, tempDbPath } from "@queue/test-support";
import { QueueValidator } from "@queue/validation";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

describe("the packages together on one live file", () => {
  it("enqueue -> work in other processes -> metrics reflect it -> cleanup and backup while workers run -> the validator passes", async () => {
    const path = tempDbPath();
    const db = openQueueDatabase({ path });
    const client = new QueueClient({ db });
    const feed = new TaskFeed(db, { from: "start" });
    const total = 1_000;
    const workers = [0, 1].map(() =>
      spawnTypeScript(fileURLToPath(new URL("./fixtures/worker-until.ts", import.meta.url)), [path, String(total)]),
    );

    const results = await Promise.all(Array.from({ length: total }, (_, n) => client.enqueue("job", { n })));
    expect(results.every((result) => result.created)).toBe(true);

    // While the workers run: a backup, a cleanup of what has finished so far, metrics, validation.
    const copy = await backup(db, join(makeTempDir(), "live.db"));
    const during = await new QueueMetrics(db).snapshot();
    expect(Object.values(during.depth).reduce((sum, n) => sum + n, 0)).toBe(total);
    const validationDuring = await new QueueValidator(path).validateAll();
    expect(validationDuring.checks.filter((check) => check.status === "fail")).toEqual([]);

    const outputs = await Promise.all(workers.map((worker) => worker.done));
    for (const output of outputs) {
      expect(output.stderr).toBe("");
      expect(JSON.parse(output.stdout).errors).toEqual([]);
    }

    const snapshot = await new QueueMetrics(db, { windowMs: 3_600_000 }).snapshot();
    expect(snapshot.depth).toEqual({ queued: 0, leased: 0, completed: 900, dead_letter: 100, cancelled: 0 });
    expect(snapshot.finishedInWindow).toEqual({ completed: 900, deadLettered: 100, cancelled: 0 });
    expect(snapshot.rates.failure).toBeCloseTo(0.1);
    expect(snapshot.runTimeMs.p50).not.toBeNull();
    expect(healthSummary(snapshot).status).toBe("warn"); // 10% dead-lettered is over the 5% warning line
    expect(toPrometheus(snapshot)).toContain('queue_tasks{status="dead_letter"} 100');
    expect(await deadLetterSummary(db)).toEqual([expect.objectContaining({ type: "job", errorName: "PermanentError", count: 100 })]);
    const changes = await feed.poll();
    expect(new Set(changes.filter((task) => task.status === "completed").map((task) => task.id)).size).toBe(900);
    expect(verifyBackup(copy.file).ok).toBe(true);

    const removed = await cleanup(db, { completedOlderThanMs: 0, deadLetterOlderThanMs: 0, archive: true, batchSize: 100 });
    expect(removed.completed + removed.deadLetter).toBe(999); // the newest task stays, so ids are never reused
    const after = await new QueueValidator(path).validateAll();
    expect(after.status).toBe("pass");
    await client.close();
    db.close();
  });
});
