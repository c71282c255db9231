// A checkpoint that must wait for a long reader (a report, a backup) holds the write lock while it
// waits. The maintenance checkpoint must bound that wait, so writers in other processes stall for a
// short, configurable time, never for the whole busy timeout (5 s).
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { checkpoint, runMaintenance } from "@queue/maintenance";
import { removeTempDirs, spawnTypeScript, tempDbPath } from "@queue/test-support";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const WRITER = fileURLToPath(new URL("../src/stall-writer.ts", import.meta.url));

/** Runs `during` while a writer process writes for `writingMs` and a reader holds an old snapshot; returns the longest write. */
async function longestWriteWhile(path: string, writingMs: number, during: () => void): Promise<number> {
  const reader = new Database(path, { readonly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT count(*) FROM tasks").get(); // the snapshot is taken: the WAL cannot be reset past it
  const writer = spawnTypeScript(WRITER, [], { env: { STALL_DB: path, STALL_MS: String(writingMs) } });
  try {
    await new Promise<void>((resolve) => writer.child.stdout?.once("data", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300)); // the writer is writing, the WAL is past the snapshot
    during();
    const result = await writer.done;
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout.trim().split("\n").at(-1) as string) as { writes: number; longestMs: number; errors: string[] };
    expect(report.errors).toEqual([]);
    expect(report.writes).toBeGreaterThan(10);
    return report.longestMs;
  } finally {
    reader.exec("COMMIT");
    reader.close();
  }
}

describe("the maintenance checkpoint under a long reader", () => {
  it("holds writers up for at most its bound, then reports busy; once the reader is gone it empties the WAL", async () => {
    const path = tempDbPath();
    const client = new QueueClient({ path });
    await client.enqueueMany(Array.from({ length: 2_000 }, (_, n) => ({ type: "seed", payload: { n, pad: "s".repeat(400) } })));
    await client.close();
    const db = openQueueDatabase({ path });
    try {
      let report: Awaited<ReturnType<typeof runMaintenance>> = [];
      const longest = await longestWriteWhile(path, 2_500, () => {
        void runMaintenance(db, { checkpointMaxWaitMs: 200 }, { force: ["checkpoint"] }).then((jobs) => {
          report = jobs;
        });
      });
      console.log(`longest write during a bounded (200 ms) checkpoint under a long reader: ${longest} ms`);
      expect(longest).toBeLessThan(1_500); // the busy timeout is 5,000 ms: an unbounded TRUNCATE stalls writers that long
      const job = report.find((entry) => entry.job === "checkpoint");
      expect(job?.error).toBeUndefined();
      expect(job?.result).toMatchObject({ mode: "TRUNCATE", busy: true });

      const after = checkpoint(db, "TRUNCATE");
      expect(after).toMatchObject({ busy: false, walBytes: 0 });
    } finally {
      db.close();
    }
  });

  it("the bound is what limits the stall: a longer one holds writers up for about that long", async () => {
    const path = tempDbPath();
    await new QueueClient({ path }).enqueue("seed", {}).then(() => undefined);
    const db = openQueueDatabase({ path });
    try {
      const longest = await longestWriteWhile(path, 3_500, () => {
        expect(checkpoint(db, "TRUNCATE", { maxWaitMs: 2_000 }).busy).toBe(true);
      });
      console.log(`longest write during a checkpoint bounded at 2,000 ms: ${longest} ms`);
      expect(longest).toBeGreaterThanOrEqual(1_500);
    } finally {
      db.close();
    }
  });
});
