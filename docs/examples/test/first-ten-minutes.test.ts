import { fileURLToPath } from "node:url";
import { makeTempDir, removeTempDirs, runTypeScript, spawnTypeScript } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const sample = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));
const CLI = fileURLToPath(new URL("../../../packages/cli/src/bin.ts", import.meta.url));

describe("getting started, as a new user runs it", () => {
  it("the first producer enqueues, the first worker runs the task and stops on SIGTERM, and queue stats shows it", async () => {
    const cwd = makeTempDir();
    const produced = await runTypeScript(sample("first-producer.ts"), [], { cwd });
    expect(produced.stderr).toBe("");
    expect(produced.stdout).toBe("enqueued task 1 (send-welcome-email)\n");

    const worker = spawnTypeScript(sample("first-worker.ts"), [], { cwd });
    await new Promise<void>((resolve) => {
      let seen = "";
      worker.child.stdout?.on("data", (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes("task 1 completed")) resolve();
      });
    });
    worker.child.kill("SIGTERM");
    expect((await worker.done).code).toBe(0);

    const stats = await runTypeScript(CLI, ["stats", "--db", "data/queue.db", "--json"], { cwd, env: { NO_COLOR: "1" } });
    expect(JSON.parse(stats.stdout).depth).toMatchObject({ queued: 0, leased: 0, completed: 1, dead_letter: 0 });
    const shown = await runTypeScript(CLI, ["show", "1", "--db", "data/queue.db", "--json"], { cwd });
    expect(JSON.parse(shown.stdout).task).toMatchObject({ status: "completed", result: { messageId: "msg-1" } });
  });
});
