import {
  buildClaimSql,
  CLAIM_COLUMNS,
  CLAIM_RETURNING,
  claimedTaskRow,
  claimTasks,
  insertTask,
  isQueueError,
  QUEUED_BY_RUN_AFTER_INDEX,
  TASK_COLUMNS,
  taskFromRow,
} from "@queue/core";
import { describe, expect, it } from "vitest";
import { openTemp } from "./helpers.js";

const SELECT_WORKER = "SELECT id, host, pid FROM workers WHERE id = ?";

describe("QueueDatabase.rawStatement", () => {
  it("reads rows as arrays of values in column order, apart from statement()'s objects for the same SQL", () => {
    const db = openTemp();
    db.statement("INSERT INTO workers (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, 0, 0)").run("w1", "box", 42);
    expect(db.rawStatement<[string, string, number]>(SELECT_WORKER).get("w1")).toEqual(["w1", "box", 42]);
    expect(db.statement(SELECT_WORKER).get("w1")).toEqual({ id: "w1", host: "box", pid: 42 });
    // Still arrays after the object statement was used: each has its own prepared statement.
    expect(db.rawStatement(SELECT_WORKER).all("w1")).toEqual([["w1", "box", 42]]);
  });

  it("prepares a statement once and reuses it", () => {
    const db = openTemp();
    expect(db.rawStatement(SELECT_WORKER)).toBe(db.rawStatement(SELECT_WORKER));
  });

  it("refuses with CLOSED once the database is closed", () => {
    const db = openTemp();
    db.rawStatement(SELECT_WORKER);
    db.close();
    let caught: unknown;
    try {
      db.rawStatement(SELECT_WORKER);
    } catch (error) {
      caught = error;
    }
    expect(isQueueError(caught, "CLOSED")).toBe(true);
  });
});

describe("claimTasks", () => {
  it("returns each claimed row as values in CLAIM_COLUMNS order, which claimedTaskRow turns into the stored row", async () => {
    const db = openTemp();
    expect(CLAIM_RETURNING).toBe(CLAIM_COLUMNS.join(", "));
    const task = {
      type: "email",
      payload: '{"to":"a@example.com"}',
      priority: 3,
      runAfter: 1_000,
      maxAttempts: 4,
      idempotencyKey: "k-1",
      timeoutMs: 5_000,
      requiredCapabilities: '["smtp"]',
      traceParent: null,
    };
    await db.transaction((tx) => insertTask(tx, task, 1_000));
    const lease = { token: "tok", workerId: "w1", leaseUntil: 31_000, now: 2_000 };
    const values = await db.transaction((tx) =>
      claimTasks(tx, buildClaimSql({ index: QUEUED_BY_RUN_AFTER_INDEX, orderBy: "run_after, id" }, { types: false, capabilities: true }), {
        ...lease,
        limit: 5,
        capabilities: '["smtp"]',
      }),
    );
    expect(values).toHaveLength(1);
    const row = claimedTaskRow(values[0] as NonNullable<(typeof values)[0]>, lease);
    // Exactly what a full read of the row gives back.
    const stored = db.statement(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(row.id);
    expect(row).toEqual(stored);
    expect(taskFromRow(row)).toMatchObject({ status: "leased", attempts: 1, payload: { to: "a@example.com" }, requiredCapabilities: ["smtp"] });
  });
});
