import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { afterAll, describe, expect, it } from "vitest";
import { describeLoad, loadOptionsFromEnv, runLoad } from "../src/load-run.js";

afterAll(() => removeTempDirs());

describe("load: many worker and producer processes on one file", () => {
  it("surfaces no busy error, starves no worker, and completes every task", async () => {
    const options = loadOptionsFromEnv(makeTempDir("load-"));
    const report = await runLoad(options);
    console.log(describeLoad(report));
    expect(report.problems).toEqual([]);
    expect(report.busyErrors).toBe(0);
    expect(report.completed).toBe(options.tasks);
    expect(report.claimsPerWorker).toHaveLength(options.workers);
    expect(report.claimsPerWorker[0]).toBeGreaterThan(0);
  }, 180_000);
});
