import { fileURLToPath } from "node:url";
import { removeTempDirs, spawnTypeScript, tempDbPath } from "@queue/test-support";
import { afterAll, describe, expect, it } from "vitest";

afterAll(() => removeTempDirs());

const CHILD = fileURLToPath(new URL("../src/leaks-child.ts", import.meta.url));
/** Generous for a loaded machine, and far below what a leaked interval or open handle would take: forever. */
const EXIT_WITHIN_MS = 15_000;

async function runAndExit(mode: string): Promise<{ processed: number; resources: string[]; exitedInMs: number }> {
  const { child, done } = spawnTypeScript(CHILD, [mode, tempDbPath()]);
  let reportedAt = 0;
  child.stdout?.on("data", (chunk: Buffer) => {
    if (chunk.toString().includes("processed")) reportedAt = Date.now();
  });
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<"hung">((resolve) => {
    timer = setTimeout(() => resolve("hung"), EXIT_WITHIN_MS + 30_000);
  });
  const result = await Promise.race([done, hung]);
  clearTimeout(timer);
  if (result === "hung") {
    child.kill("SIGKILL");
    throw new Error(`the ${mode} child did not exit on its own after shutting everything down`);
  }
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout.trim().split("\n").at(-1) as string);
  return { ...report, exitedInMs: Date.now() - reportedAt };
}

describe("nothing keeps the process alive after shutdown (no process.exit)", () => {
  it("a Worker and a QueueClient on their own connections, stopped and closed", async () => {
    const report = await runAndExit("worker-client");
    console.log(
      `leaks worker-client: ${report.processed} tasks, resources after close ${JSON.stringify(report.resources)}, exited ${report.exitedInMs} ms after`,
    );
    expect(report.processed).toBe(300);
    expect(report.resources).toEqual([]);
    expect(report.exitedInMs).toBeLessThan(EXIT_WITHIN_MS);
  });

  it("a Worker, runUntilEmpty and a QueueClient sharing one QueueDatabase, then the database closed", async () => {
    const report = await runAndExit("shared-db");
    console.log(
      `leaks shared-db: ${report.processed} tasks, resources after close ${JSON.stringify(report.resources)}, exited ${report.exitedInMs} ms after`,
    );
    expect(report.processed).toBe(150);
    expect(report.resources).toEqual([]);
    expect(report.exitedInMs).toBeLessThan(EXIT_WITHIN_MS);
  });

  it("a QueuedTaskManager with its embedded worker, closed", async () => {
    const report = await runAndExit("task-manager");
    console.log(
      `leaks task-manager: ${report.processed} runs, resources after close ${JSON.stringify(report.resources)}, exited ${report.exitedInMs} ms after`,
    );
    expect(report.processed).toBe(20);
    expect(report.resources).toEqual([]);
    expect(report.exitedInMs).toBeLessThan(EXIT_WITHIN_MS);
  });
});
