import { join } from "node:path";
import { QueueClient } from "@queue/client";
import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { afterAll, describe, expect, it } from "vitest";
import type { Execution } from "../src/chaos-record.js";
import { type ChaosOptions, chaosOptionsFromEnv, runChaos, verifyExecutions } from "../src/chaos-supervisor.js";
import { dropSchema, freshSchemaLocation, POSTGRES_TEST_URL } from "../src/postgres-server.js";

const schemas: string[] = [];
afterAll(async () => {
  removeTempDirs();
  for (const location of schemas.splice(0)) await dropSchema(location);
});

async function chaosRun(options: ChaosOptions): Promise<void> {
  const report = await runChaos(options);
  console.log(
    `chaos on ${options.postgres === undefined ? "SQLite" : "PostgreSQL"} (${options.workers} workers, ${options.producers} producers, ${options.durationMs} ms, a kill every ~${options.killIntervalMs} ms): ` +
      `enqueued ${report.enqueued}, completed ${report.completed}, dead-lettered ${report.deadLettered}, ` +
      `killed ${report.killed} workers (${report.killedWhileWorking} mid-work), workers started ${report.workersStarted} (${report.cliWorkersStarted} via queue work), ` +
      `executions ${report.executions}, re-executed after kill ${report.reExecutedAfterKill} (${report.tasksReExecuted} tasks), ` +
      `integrity ${report.integrity}, ${report.durationMs} ms`,
  );
  expect(report.problems).toEqual([]);
  expect(report.enqueued).toBeGreaterThan(0);
  expect(report.completed).toBe(report.enqueued);
  expect(report.killedWhileWorking).toBeGreaterThan(0);
  expect(report.reExecutedAfterKill).toBeGreaterThan(0);
  expect(report.integrity).toBe("ok");
}

describe("chaos: workers killed with SIGKILL while producers enqueue", () => {
  it("every task is completed once; every re-execution follows a kill; the file stays intact", async () => {
    await chaosRun(chaosOptionsFromEnv(makeTempDir("chaos-")));
  }, 120_000);

  it("on PostgreSQL (a schema of its own): every task is completed once; every re-execution follows a kill", async () => {
    const postgres = freshSchemaLocation(POSTGRES_TEST_URL, "chaos");
    schemas.push(postgres);
    await chaosRun({ ...chaosOptionsFromEnv(makeTempDir("chaos-pg-")), postgres });
  }, 120_000);
});

describe("the chaos verdict", () => {
  it("flags a re-execution no kill explains, two runs under one attempt, a lost task and a result from the wrong run", async () => {
    const path = join(makeTempDir("chaos-verdict-"), "verdict.db");
    const client = new QueueClient({ path });
    const ids = (await client.enqueueMany(Array.from({ length: 5 }, (_, n) => ({ type: "work", payload: { n } })))).map(
      (result) => result.task.id,
    );
    const [explained, unexplained, twice, wrongResult, unfinished] = ids as [number, number, number, number, number];
    const finish = client.db.connection.prepare(
      "UPDATE tasks SET status = 'completed', attempts = ?, result = ?, finished_at = 1 WHERE id = ?",
    );
    finish.run(2, JSON.stringify({ pid: 200, attempt: 2 }), explained);
    finish.run(2, JSON.stringify({ pid: 200, attempt: 2 }), unexplained);
    finish.run(1, JSON.stringify({ pid: 200, attempt: 1 }), twice);
    finish.run(2, JSON.stringify({ pid: 100, attempt: 1 }), wrongResult);
    await client.close();
    const run = (taskId: number, attempt: number, pid: number): Execution => ({ phase: "started", taskId, attempt, pid });
    const executions = [
      run(explained, 1, 100),
      run(explained, 2, 200),
      run(unexplained, 1, 300),
      run(unexplained, 2, 200),
      run(twice, 1, 200),
      run(twice, 1, 300),
      run(wrongResult, 1, 100),
      run(wrongResult, 2, 200),
    ];
    const verdict = await verifyExecutions(path, executions, new Set([100]), 5, 25);
    expect(verdict.problems).toEqual([
      expect.stringContaining(`task ${unexplained} ran again after attempt 1 in 300, which was not killed`),
      expect.stringContaining(`task ${twice} ran twice under one attempt number`),
      expect.stringContaining(`task ${twice} ran again after attempt 1 in 200, which was not killed`),
      expect.stringContaining(`task ${twice}: result`),
      expect.stringContaining(`task ${wrongResult}: result`),
      expect.stringContaining(`task ${unfinished} ended queued`),
    ]);
    expect(verdict).toMatchObject({ completed: 4, integrity: "ok", reExecutedAfterKill: 4, tasksReExecuted: 4 });
  });
});
