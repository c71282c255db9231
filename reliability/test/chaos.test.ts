import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { chaosOptionsFromEnv, runChaos } from "../src/chaos-supervisor.js";

afterAll(() => removeTempDirs());

describe("chaos: workers killed with SIGKILL while producers enqueue", () => {
  it("every task is completed once; every re-execution follows a kill; the file stays intact", async () => {
    const options = chaosOptionsFromEnv(makeTempDir("chaos-"));
    const report = await runChaos(options);
    console.log(
      `chaos (${options.workers} workers, ${options.producers} producers, ${options.durationMs} ms, a kill every ~${options.killIntervalMs} ms): ` +
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
  }, 120_000);
});
