import { existsSync, statSync } from "node:fs";
import { BACKGROUND_CHECKPOINT_AFTER, isQueueError, openQueueDatabase, type QueueDatabase, runningCheckpointers } from "@queue/core";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openTemp, tempDbPath, track } from "./helpers.js";

/** So high that the writing connection itself never checkpoints during a test. */
const NO_AUTOCHECKPOINT_HERE = 1_000_000;

/** Commits `count` write transactions, each adding a row with a kilobyte of payload. */
async function commit(db: QueueDatabase, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await db.transaction((tx) =>
      tx
        .statement("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('t', ?, 0, 0, 0)")
        .run(JSON.stringify("x".repeat(1024))),
    );
  }
}

async function eventually(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("background checkpoints", () => {
  it("copy committed pages into the database file from a thread of their own", async () => {
    const db = openTemp({ pragmas: { walAutocheckpointPages: NO_AUTOCHECKPOINT_HERE } });
    const before = statSync(db.path).size;
    await commit(db, BACKGROUND_CHECKPOINT_AFTER - 1);
    // A short script never starts the thread.
    expect(db.checkpointsInBackground).toBe(false);
    await commit(db, 40);
    expect(db.checkpointsInBackground).toBe(true);
    expect(runningCheckpointers()).toContain(db.path);
    // The connection's own checkpoint is the backstop now: it runs four times less often.
    expect(db.connection.pragma("wal_autocheckpoint", { simple: true })).toBe(4 * NO_AUTOCHECKPOINT_HERE);
    // This connection never checkpoints (its threshold is out of reach), yet the file grows: the
    // pages reached it through the background thread.
    await eventually(() => statSync(db.path).size > before + 50 * 1024);
  });

  it("are not run with checkpoints: inline, where the file grows only at the connection's own checkpoint", async () => {
    const db = openTemp({ checkpoints: "inline", pragmas: { walAutocheckpointPages: NO_AUTOCHECKPOINT_HERE } });
    const before = statSync(db.path).size;
    await commit(db, BACKGROUND_CHECKPOINT_AFTER + 40);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(db.checkpointsInBackground).toBe(false);
    expect(runningCheckpointers()).not.toContain(db.path);
    expect(statSync(db.path).size).toBe(before);
    db.connection.pragma("wal_checkpoint(PASSIVE)");
    expect(statSync(db.path).size).toBeGreaterThan(before + 50 * 1024);
  });

  it("share one thread per file, which stops when the last connection using it closes", async () => {
    const path = tempDbPath();
    const first = track(openQueueDatabase({ path }));
    const second = track(openQueueDatabase({ path }));
    await commit(first, BACKGROUND_CHECKPOINT_AFTER);
    await commit(second, BACKGROUND_CHECKPOINT_AFTER);
    expect(first.checkpointsInBackground && second.checkpointsInBackground).toBe(true);
    expect(runningCheckpointers().filter((running) => running === path)).toHaveLength(1);
    first.close();
    expect(runningCheckpointers()).toContain(path);
    second.close();
    expect(runningCheckpointers()).not.toContain(path);
  });

  it("leave a caller's own connection checkpointing as configured once the queue lets go of it", async () => {
    const path = tempDbPath();
    track(openQueueDatabase({ path })).close();
    const connection = new Database(path);
    try {
      const db = openQueueDatabase({ connection });
      await commit(db, BACKGROUND_CHECKPOINT_AFTER);
      expect(db.checkpointsInBackground).toBe(true);
      expect(connection.pragma("wal_autocheckpoint", { simple: true })).toBe(4_000);
      db.close();
      expect(connection.open).toBe(true);
      expect(connection.pragma("wal_autocheckpoint", { simple: true })).toBe(1_000);
    } finally {
      connection.close();
    }
  });

  it("are stopped by close() before the connection closes, so the last close still removes the WAL", async () => {
    for (let round = 0; round < 5; round++) {
      const path = tempDbPath();
      const db = openQueueDatabase({ path });
      await commit(db, BACKGROUND_CHECKPOINT_AFTER + 36);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await commit(db, 5);
      expect(db.checkpointsInBackground).toBe(true);
      db.close();
      // As with checkpoints inline: the file alone holds everything, and no -wal file is left.
      expect(existsSync(`${path}-wal`)).toBe(false);
      const copy = new Database(path, { readonly: true });
      try {
        expect(copy.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: BACKGROUND_CHECKPOINT_AFTER + 41 });
      } finally {
        copy.close();
      }
    }
  });

  it("are never started for an in-memory database, nor when automatic checkpoints are off", async () => {
    const memory = track(openQueueDatabase({ path: ":memory:" }));
    const manual = openTemp({ pragmas: { walAutocheckpointPages: 0 } });
    await commit(memory, BACKGROUND_CHECKPOINT_AFTER + 1);
    await commit(manual, BACKGROUND_CHECKPOINT_AFTER + 1);
    expect(memory.checkpointsInBackground).toBe(false);
    expect(manual.checkpointsInBackground).toBe(false);
  });

  it("refuse an unknown mode with a clear error", () => {
    let caught: unknown;
    try {
      openQueueDatabase({ path: tempDbPath(), checkpoints: "sometimes" as never });
    } catch (error) {
      caught = error;
    }
    expect(isQueueError(caught, "INVALID_CONFIG")).toBe(true);
    expect((caught as Error).message).toMatch(/checkpoints.*"background" or "inline"/);
  });
});
