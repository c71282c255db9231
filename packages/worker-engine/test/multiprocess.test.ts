import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { FINAL_TASK_STATUSES, openQueueDatabase } from "@queue/core";
import { runTypeScript, spawnTypeScript } from "@queue/test-support";
import { complete, Worker } from "@queue/worker-engine";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { tempDbPath } from "./helpers.js";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface WorkerReport {
  workerId: string;
  executions: number[];
  errors: string[];
}

describe("several processes on one file", () => {
  it("4 worker and 2 producer processes complete 20,000 tasks exactly once with no busy error", async () => {
    const path = tempDbPath();
    openQueueDatabase({ path }).close();
    const total = 20_000;
    const workers = Array.from({ length: 4 }, () =>
      runTypeScript(fixture("worker-process.ts"), [path, String(total), "8", "fifo", "30000", "noop"]),
    );
    const producers = [0, 1].map((index) =>
      runTypeScript(fixture("producer-process.ts"), [path, String(total / 2), String(index * (total / 2))]),
    );
    const produced = await Promise.all(producers);
    for (const result of produced) {
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toEqual({ enqueued: total / 2, created: total / 2, errors: [] });
    }
    const reports = (await Promise.all(workers)).map((result) => {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as WorkerReport;
    });
    for (const report of reports) expect(report.errors).toEqual([]);
    const executions = reports.flatMap((report) => report.executions);
    expect(executions).toHaveLength(total);
    expect(new Set(executions).size).toBe(total);
    expect(reports.filter((report) => report.executions.length > 0)).toHaveLength(4);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT status, count(*) AS n FROM tasks GROUP BY status").all()).toEqual([{ status: "completed", n: total }]);
    expect(db.prepare("SELECT count(DISTINCT json_extract(payload, '$.n')) AS n FROM tasks").get()).toEqual({ n: total });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("a race on the same idempotency keys from several processes yields one task per key", async () => {
    const path = tempDbPath();
    openQueueDatabase({ path }).close();
    const keys = 500;
    const results = await Promise.all(
      Array.from({ length: 4 }, () => runTypeScript(fixture("producer-process.ts"), [path, String(keys), "0", "order"])),
    );
    const reports = results.map((result) => JSON.parse(result.stdout) as { enqueued: number; created: number; errors: string[] });
    for (const report of reports) expect(report).toMatchObject({ enqueued: keys, errors: [] });
    expect(reports.reduce((sum, report) => sum + report.created, 0)).toBe(keys);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT count(*) AS n, count(DISTINCT idempotency_key) AS k FROM tasks").get()).toEqual({ n: keys, k: keys });
    db.close();
  });

  it("tasks of a worker killed with SIGKILL are re-run by others after their leases expire; its zombie answer is rejected", async () => {
    const path = tempDbPath();
    const client = new QueueClient({ path });
    const total = 30;
    await client.enqueueMany(Array.from({ length: total }, (_, n) => ({ type: "work", payload: { n } })));
    const leaseMs = 1_000;
    const doomed = spawnTypeScript(fixture("worker-process.ts"), [path, String(total), "5", "fifo", String(leaseMs), "hang"]);
    let claimedLines = "";
    await new Promise<void>((resolve) => {
      doomed.child.stdout?.on("data", (chunk: Buffer) => {
        claimedLines += chunk.toString();
        if (claimedLines.match(/claimed \d+/g)?.length === 5) resolve();
      });
    });
    const held = new Database(path, { readonly: true })
      .prepare("SELECT id, lease_token AS token, locked_by AS workerId FROM tasks WHERE status = 'leased'")
      .all() as { id: number; token: string; workerId: string }[];
    expect(held).toHaveLength(5);
    doomed.child.kill("SIGKILL");
    const killed = await doomed.done;
    expect(killed.signal).toBe("SIGKILL");

    const executions: number[] = [];
    const survivor = new Worker({
      db: client.db,
      concurrency: 4,
      pollIntervalMs: 20,
      handlers: { work: (_payload, ctx) => void executions.push(ctx.task.id) },
    });
    await survivor.start();
    const deadline = Date.now() + 20_000;
    while ((await client.counts()).completed < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    await survivor.stop();
    expect(await client.counts()).toMatchObject({ completed: total, queued: 0, leased: 0 });
    expect(survivor.stats.recovered).toBe(5);
    expect(new Set(executions).size).toBe(total);
    for (const lease of held) {
      const task = await client.get(lease.id);
      expect(task).toMatchObject({ status: "completed", attempts: 2 });
    }
    const zombie = held[0];
    if (zombie === undefined) throw new Error("no held lease");
    const before = await client.get(zombie.id);
    expect(() =>
      client.db.transactionSync((tx) => complete(tx, { taskId: zombie.id, token: zombie.token, workerId: zombie.workerId }, '"zombie"')),
    ).toThrow(expect.objectContaining({ code: "LEASE_LOST" }));
    expect(await client.get(zombie.id)).toEqual(before);
    expect(FINAL_TASK_STATUSES).toContain(before?.status);
    await client.close();
  });
});
