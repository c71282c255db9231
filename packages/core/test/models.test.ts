import {
  completeLeasedTasks,
  insertTask,
  insertTaskId,
  newTaskRow,
  selectTask,
  TASK_COLUMNS,
  type TaskRow,
  taskFromRow,
  workerFromRow,
} from "@queue/core";
import { describe, expect, it } from "vitest";
import { openTemp } from "./helpers.js";

describe("taskFromRow", () => {
  it("maps a stored row to a Task with Dates, parsed JSON and booleans", () => {
    const db = openTemp();
    const created = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
    const row = db.transactionSync((tx) =>
      tx
        .statement<TaskRow>(
          `INSERT INTO tasks (type, priority, payload, max_attempts, run_after, idempotency_key, timeout_ms,
             required_capabilities, cancel_requested, error, result, progress, created_at, updated_at, finished_at)
           VALUES ('send-email', 3, ?, 5, ?, 'k1', 1000, '["gpu"]', 1, ?, ?, 0.5, ?, ?, ?) RETURNING ${TASK_COLUMNS}`,
        )
        .get(
          JSON.stringify({ to: "a@example.com", tags: ["x"] }),
          created + 1,
          JSON.stringify({ name: "Error", message: "boom" }),
          JSON.stringify({ sent: true }),
          created,
          created,
          created + 2,
        ),
    );
    const task = taskFromRow<{ to: string; tags: string[] }, { sent: boolean }>(row as TaskRow);
    expect(task).toMatchObject({
      type: "send-email",
      priority: 3,
      payload: { to: "a@example.com", tags: ["x"] },
      status: "queued",
      attempts: 0,
      maxAttempts: 5,
      idempotencyKey: "k1",
      timeoutMs: 1000,
      requiredCapabilities: ["gpu"],
      cancelRequested: true,
      error: { name: "Error", message: "boom" },
      result: { sent: true },
      progress: 0.5,
      leaseUntil: null,
      lockedBy: null,
      startedAt: null,
    });
    expect(task.createdAt).toEqual(new Date(created));
    expect(task.runAfter.getTime()).toBe(created + 1);
    expect(task.finishedAt?.getTime()).toBe(created + 2);
    expect(Object.isFrozen(task)).toBe(true);
  });

  it("reports a JSON column that is not JSON as INVALID_DATA naming the row", () => {
    const row = { id: 7, payload: "{not json", required_capabilities: null, error: null, result: null } as TaskRow;
    expect(() => taskFromRow(row)).toThrow(
      expect.objectContaining({ code: "INVALID_DATA", message: expect.stringContaining("tasks.payload (id 7)") }),
    );
  });
});

describe("workerFromRow", () => {
  it("maps capabilities and times", () => {
    const worker = workerFromRow({ id: "w1", host: "h", pid: 42, capabilities: '["a","b"]', started_at: 1000, heartbeat_at: 2000 });
    expect(worker).toEqual({
      id: "w1",
      host: "h",
      pid: 42,
      capabilities: ["a", "b"],
      startedAt: new Date(1000),
      heartbeatAt: new Date(2000),
    });
  });

  it("rejects capabilities that are not an array of strings", () => {
    expect(() => workerFromRow({ id: "w1", host: "h", pid: 1, capabilities: "[1]", started_at: 0, heartbeat_at: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_DATA" }),
    );
  });
});

describe("insertTask", () => {
  it("returns exactly the row SQLite stored, defaults included", () => {
    const db = openTemp();
    const task = {
      type: "t",
      payload: '{"a":1}',
      priority: 2,
      runAfter: 50,
      maxAttempts: 4,
      idempotencyKey: "k",
      timeoutMs: 9,
      requiredCapabilities: '["x"]',
      traceParent: null,
    };
    const { row, created } = db.transactionSync((tx) => insertTask(tx, task, 40));
    expect(created).toBe(true);
    expect(row).toEqual(selectTask(db, row.id));
    const again = db.transactionSync((tx) => insertTask(tx, { ...task, payload: "2" }, 41));
    expect(again).toEqual({ row, created: false });
    // insertTaskId answers with the new id, and newTaskRow rebuilds exactly the stored row.
    const other = { ...task, idempotencyKey: "k2" };
    const id = db.transactionSync((tx) => insertTaskId(tx, other, 42));
    expect(typeof id).toBe("number");
    expect(newTaskRow(id as number, other, 42)).toEqual(selectTask(db, id as number));
    expect(db.transactionSync((tx) => insertTaskId(tx, other, 43))).toEqual(selectTask(db, id as number));
  });
});

describe("completeLeasedTasks", () => {
  it("records every completion whose token holds the lease, in one statement, and skips the rest", () => {
    const db = openTemp();
    const lease = (token: string | null) =>
      db.transactionSync((tx) =>
        Number(
          tx
            .statement(
              "INSERT INTO tasks (type, status, run_after, lease_token, lease_until, created_at, updated_at) VALUES ('t', ?, 0, ?, ?, 0, 0)",
            )
            .run(token === null ? "queued" : "leased", token, token === null ? null : 99).lastInsertRowid,
        ),
      );
    const a = lease("token-a");
    const b = lease("token-b");
    const queued = lease(null);
    const done = db.transactionSync((tx) =>
      completeLeasedTasks(
        tx,
        [
          { id: a, token: "token-a", result: '{"n":1}' },
          { id: b, token: "stale", result: "2" },
          { id: queued, token: "token-a", result: "3" },
        ],
        50,
      ),
    );
    expect([...done]).toEqual([a]);
    expect(selectTask(db, a)).toMatchObject({ status: "completed", result: '{"n":1}', finished_at: 50, lease_token: null, progress: 1 });
    expect(selectTask(db, b)).toMatchObject({ status: "leased", result: null, lease_token: "token-b" });
    expect(selectTask(db, queued)).toMatchObject({ status: "queued", result: null });
  });
});
