import {
  anyPaused,
  buildClaimSql,
  CLAIM_COLUMNS,
  CLAIM_RETURNING,
  type ClaimFilters,
  claimedTask,
  claimedTaskRow,
  claimTasks,
  insertTask,
  isQueueError,
  listUnfinishedTasks,
  pauseType,
  type QueueDatabase,
  releaseClaim,
  requestCancelLeasedTask,
  resumeType,
  TASK_COLUMNS,
  type TaskRow,
  taskFromRow,
} from "@queue/core";
import { describe, expect, it } from "vitest";
import { OLDEST_FIRST, openTemp } from "./helpers.js";

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
      claimTasks(tx, buildClaimSql(OLDEST_FIRST, { types: false, capabilities: true }), {
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
    expect(taskFromRow(row)).toMatchObject({
      status: "leased",
      attempts: 1,
      payload: { to: "a@example.com" },
      requiredCapabilities: ["smtp"],
    });
    // claimedTask decodes the same Task without the row in between.
    const direct = claimedTask(values[0] as NonNullable<(typeof values)[0]>, lease);
    expect(direct).toEqual(taskFromRow(stored as TaskRow));
    expect(Object.isFrozen(direct)).toBe(true);
  });

  it("refuses a claimed row whose JSON cannot be decoded", () => {
    const lease = { token: "tok", workerId: "w1", leaseUntil: 31_000, now: 2_000 };
    const values = [9, "t", 0, "{oops", 1, 3, 0, null, null, null, null, null, 0, null] as const;
    expect(() => claimedTask(values, lease)).toThrow(/tasks\.payload \(id 9\) could not be parsed/);
  });
});

describe("claim filters", () => {
  function seed(db: QueueDatabase): void {
    const insert = db.statement(
      "INSERT INTO tasks (type, payload, run_after, required_capabilities, created_at, updated_at) VALUES (?, 'null', 0, ?, 0, 0)",
    );
    for (const [type, capabilities] of [
      ["a", null],
      ["a", "[]"],
      ["a", '["gpu"]'],
      ["b", null],
      ["c", null],
    ] as const) {
      insert.run(type, capabilities);
    }
  }

  /** Ids of what a claim with these filters takes (rolled back, so each call sees the same queue). */
  function claimedIds(db: QueueDatabase, filters: ClaimFilters, params: Record<string, unknown>): number[] {
    const sql = buildClaimSql(OLDEST_FIRST, filters);
    const ids: number[] = [];
    try {
      db.transactionSync((tx) => {
        for (const values of claimTasks(tx, sql, { now: 1, leaseUntil: 2, token: "t", workerId: "w", limit: 10, ...params }))
          ids.push(values[0]);
        throw new Error("roll back");
      });
    } catch (error) {
      if ((error as Error).message !== "roll back") throw error;
    }
    return ids.sort((x, y) => x - y);
  }

  it("takes one type by name, or several from a list, alike", () => {
    const db = openTemp();
    seed(db);
    const one = claimedIds(db, { types: "one", capabilities: false }, { type: "a" });
    expect(one).toEqual([1, 2, 3]);
    expect(claimedIds(db, { types: "list", capabilities: false }, { types: '["a"]' })).toEqual(one);
    expect(claimedIds(db, { types: true, capabilities: false }, { types: '["a","c"]' })).toEqual([1, 2, 3, 5]);
  });

  it("for a worker without capabilities takes only tasks that require none, as the capability list [] does", () => {
    const db = openTemp();
    seed(db);
    const none = claimedIds(db, { types: false, capabilities: "none" }, {});
    expect(none).toEqual([1, 2, 4, 5]);
    expect(claimedIds(db, { types: false, capabilities: true }, { capabilities: "[]" })).toEqual(none);
    expect(claimedIds(db, { types: false, capabilities: true }, { capabilities: '["gpu"]' })).toEqual([1, 2, 3, 4, 5]);
  });

  it("skips paused types unless told nothing is paused, and anyPaused says which form is right", async () => {
    const db = openTemp();
    seed(db);
    expect(anyPaused(db)).toBe(false);
    const all = [1, 2, 3, 4, 5];
    expect(claimedIds(db, { types: false, capabilities: false, pauses: false }, {})).toEqual(all);
    await db.transaction((tx) => pauseType(tx, "a", 0));
    expect(anyPaused(db)).toBe(true);
    expect(claimedIds(db, { types: false, capabilities: false }, {})).toEqual([4, 5]);
    await db.transaction((tx) => pauseType(tx, "*", 0));
    expect(claimedIds(db, { types: false, capabilities: false, pauses: true }, {})).toEqual([]);
    await db.transaction((tx) => {
      resumeType(tx, "a");
      resumeType(tx, "*");
    });
    expect(anyPaused(db)).toBe(false);
  });
});

describe("listUnfinishedTasks", () => {
  it("returns queued and leased tasks whose type starts with the prefix, oldest first, whatever characters follow it", () => {
    const db = openTemp();
    db.transactionSync((tx) => {
      const insert = tx.statement(
        "INSERT INTO tasks (type, status, run_after, lease_token, lease_until, finished_at, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, 0, 0)",
      );
      const rows: [string, string][] = [
        ["run:a", "queued"],
        ["run:\u{1F600}", "queued"],
        ["\u{1F600}-type", "leased"],
        ["run:b", "completed"],
        ["other", "queued"],
        ["run:c", "leased"],
      ];
      for (const [type, status] of rows) {
        insert.run(type, status, status === "leased" ? "token" : null, status === "leased" ? 1 : null, status === "completed" ? 1 : null);
      }
    });
    const types = (prefix?: string) => listUnfinishedTasks(db, prefix).map((row) => row.type);
    expect(types("run:")).toEqual(["run:a", "run:\u{1F600}", "run:c"]);
    expect(types()).toEqual(["run:a", "run:\u{1F600}", "\u{1F600}-type", "other", "run:c"]);
  });
});

describe("releaseClaim", () => {
  it("puts back what one claim leased, its attempts given back, a cancel requested meanwhile winning; other leases stay", async () => {
    const db = openTemp();
    const task = {
      type: "t",
      payload: "null",
      priority: 0,
      runAfter: 0,
      maxAttempts: 3,
      idempotencyKey: null,
      timeoutMs: null,
      requiredCapabilities: null,
      traceParent: null,
    };
    await db.transaction((tx) => {
      for (let n = 0; n < 4; n += 1) insertTask(tx, task, 0);
    });
    const sql = buildClaimSql(OLDEST_FIRST, { types: false, capabilities: true });
    const claimAs = (token: string, limit: number) =>
      db.transactionSync((tx) =>
        claimTasks(tx, sql, { now: 10, leaseUntil: 1_000, token, workerId: "w", limit, capabilities: "[]" }).map((values) => values[0]),
      );
    const lost = claimAs("lost", 3);
    const kept = claimAs("kept", 1);
    expect(lost).toEqual([1, 2, 3]);
    db.transactionSync((tx) => requestCancelLeasedTask(tx, 2, 20));
    expect(db.transactionSync((tx) => releaseClaim(tx, "lost", 30)).sort()).toEqual([1, 2, 3]);
    const rows = db
      .statement<{
        id: number;
        status: string;
        attempts: number;
        lease_token: string | null;
        run_after: number;
        started_at: number | null;
      }>("SELECT id, status, attempts, lease_token, run_after, started_at FROM tasks ORDER BY id")
      .all();
    // In their place (run_after as enqueued), never started.
    expect(rows).toEqual([
      { id: 1, status: "queued", attempts: 0, lease_token: null, run_after: 0, started_at: null },
      { id: 2, status: "cancelled", attempts: 0, lease_token: null, run_after: 0, started_at: null },
      { id: 3, status: "queued", attempts: 0, lease_token: null, run_after: 0, started_at: null },
      { id: kept[0], status: "leased", attempts: 1, lease_token: "kept", run_after: 0, started_at: 10 },
    ]);
    // Nothing is left under that token: a second give-back changes nothing.
    expect(db.transactionSync((tx) => releaseClaim(tx, "lost", 40))).toEqual([]);
  });
});
