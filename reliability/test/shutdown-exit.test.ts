// `queue work` stopped with SIGTERM while a handler ignores its AbortSignal and holds a live handle
// (an interval): once the graceful stop has released the task, the command must exit by itself,
// naming the handler, instead of waiting for a second signal.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { makeTempDir, removeTempDirs, spawnTypeScript, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const BIN = fileURLToPath(new URL("../../packages/cli/src/bin.ts", import.meta.url));

function taskStatus(path: string): string | undefined {
  const db = openQueueDatabase({ path, readonly: true });
  try {
    return (db.connection.prepare("SELECT status FROM tasks WHERE id = 1").get() as { status: string } | undefined)?.status;
  } finally {
    db.close();
  }
}

describe("queue work after SIGTERM", () => {
  it("exits on its own once the task is released, naming the handler that did not return", async () => {
    const path = tempDbPath();
    const client = new QueueClient({ path });
    await client.enqueue("stuck", {});
    await client.close();
    const handlers = join(makeTempDir(), "handlers.mjs");
    writeFileSync(handlers, "export default { stuck: () => { setInterval(() => {}, 1000); return new Promise(() => {}); } };\n");
    const work = spawnTypeScript(BIN, ["work", "--handlers", handlers, "--db", path, "--shutdown-timeout", "200ms"], {
      env: { NO_COLOR: "1" },
    });
    const deadline = Date.now() + 20_000;
    while (taskStatus(path) !== "leased") {
      if (Date.now() > deadline) throw new Error("the worker never leased the task");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const signalled = Date.now();
    work.child.kill("SIGTERM");
    const exited = await Promise.race([work.done, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000))]);
    if (exited === undefined) work.child.kill("SIGKILL");
    expect(exited, "the process exited without a second signal").toBeDefined();
    // The shutdown timeout (200 ms) and the abort grace (5 s), then the exit.
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(exited?.code).toBe(0);
    expect(exited?.stderr).toMatch(/the handler of task 1 \(type stuck\) did not return .* exiting without it/);
    expect(taskStatus(path)).toBe("queued");
  });
});
