import { fileURLToPath } from "node:url";
import { QueuedTaskManager } from "@queue/integration";
import { removeTempDirs, runTypeScript, tempDbPath } from "@queue/test-support";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const CLI = fileURLToPath(new URL("../../cli/src/bin.ts", import.meta.url));
const MODULES = fileURLToPath(new URL("./fixtures/run-modules.ts", import.meta.url));

describe("QueuedTaskManager with separate worker processes", () => {
  it("10 runs executed by 3 `queue work` processes all complete, once each, and the registry shows it", async () => {
    const path = tempDbPath();
    const manager = new QueuedTaskManager({ path, embeddedWorker: false, syncIntervalMs: 20 });
    const runs = await Promise.all(
      Array.from({ length: 10 }, (_, n) =>
        manager.startTask({ id: `square-${n}`, moduleId: "square", parameters: { n, expected: n * n } }),
      ),
    );
    expect(manager.getActiveTaskCount()).toBe(10);
    const workers = await Promise.all(
      [0, 1, 2].map(() =>
        runTypeScript(CLI, ["work", "--handlers", MODULES, "--db", path, "--concurrency", "2", "--until-empty", "--json"], {
          env: { NO_COLOR: "1" },
        }),
      ),
    );
    for (const worker of workers) expect(worker.code).toBe(0);
    await manager.waitAll();
    expect(runs.map((run) => manager.registry.get(run.id)).every((run) => run?.status === "completed" && run.exitCode === 0)).toBe(true);
    expect(manager.getActiveTaskCount()).toBe(0);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("SELECT max(attempts) AS attempts, count(*) AS n FROM tasks").get()).toEqual({ attempts: 1, n: 10 });
    db.close();
    await manager.close();
  });
});
