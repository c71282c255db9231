import {
  buildClaimSql,
  type ClaimOrder,
  type ClaimOrderColumn,
  claimOrderKey,
  claimTasks,
  isQueueError,
  MAX_DRAW_WINDOW,
  type OrderDirection,
  type QueueDatabase,
  validateClaimOrder,
} from "@queue/core";
import { describe, expect, it } from "vitest";
import { OLDEST_FIRST, openTemp } from "./helpers.js";

/** The INVALID_CONFIG error `validateClaimOrder` throws for `order`. */
function refusal(order: unknown): { message: string; option: unknown } {
  try {
    validateClaimOrder(order, "Strategy custom");
  } catch (error) {
    if (!isQueueError(error, "INVALID_CONFIG")) throw error;
    return { message: error.message, option: error.details?.option };
  }
  throw new Error(`accepted ${JSON.stringify(order)}`);
}

describe("validateClaimOrder", () => {
  const ID = { column: "id", direction: "asc" };
  const withDraw = (draw: unknown) => ({ by: [ID], draw });
  const COLUMNS = '"id", "priority", "run_after", "created_at", "attempts"';

  it("accepts orders over the known columns, with an optional weighted draw, and returns a frozen copy", () => {
    const given = { by: [{ column: "created_at", direction: "desc" }], draw: { kind: "weighted_by_priority", window: 16 } };
    const order = validateClaimOrder(given);
    expect(order).toEqual(given);
    expect(order).not.toBe(given);
    expect(Object.isFrozen(order) && Object.isFrozen(order.by) && Object.isFrozen(order.by[0]) && Object.isFrozen(order.draw)).toBe(true);
    expect(validateClaimOrder({ by: [{ column: "attempts", direction: "asc" }] })).toEqual({
      by: [{ column: "attempts", direction: "asc" }],
    });
  });

  it.each<[string, unknown, string, string]>([
    [
      "not an object",
      "run_after, id",
      "order",
      'Strategy custom: order is "run_after, id"; expected { by: [{ column, direction }, ...], draw? }.',
    ],
    ["no keys", { by: [] }, "order.by", "Strategy custom: order.by is an array; expected a non-empty list of { column, direction }"],
    ["keys that are not a list", { by: "id" }, "order.by", 'Strategy custom: order.by is "id"; expected a non-empty list'],
    ["a key that is not an object", { by: ["id"] }, "order.by[0]", 'order.by[0] is "id"; expected { column, direction }'],
    [
      "an unknown column",
      { by: [{ column: "type", direction: "asc" }] },
      "order.by[0].column",
      `order.by[0].column is "type"; expected one of ${COLUMNS}.`,
    ],
    [
      "SQL for a column",
      { by: [{ column: "id; DROP TABLE tasks", direction: "asc" }] },
      "order.by[0].column",
      `order.by[0].column is "id; DROP TABLE tasks"; expected one of ${COLUMNS}.`,
    ],
    [
      "an upper-case direction",
      { by: [ID, { column: "priority", direction: "DESC" }] },
      "order.by[1].direction",
      'order.by[1].direction is "DESC"; expected one of "asc", "desc".',
    ],
    [
      "a missing direction",
      { by: [{ column: "id" }] },
      "order.by[0].direction",
      'order.by[0].direction is undefined; expected one of "asc", "desc".',
    ],
    [
      "a column named twice",
      { by: [ID, { ...ID, direction: "desc" }] },
      "order.by",
      'expected each column at most once ("id" is named twice).',
    ],
    ["an unknown property", { by: [ID], orderBy: "id" }, "order.orderBy", 'order has an unknown property "orderBy"; allowed: by, draw.'],
    [
      "an unknown key property",
      { by: [{ column: "id", direction: "asc", nulls: "last" }] },
      "order.by[0].nulls",
      'order.by[0] has an unknown property "nulls"; allowed: column, direction.',
    ],
    [
      "an unknown draw",
      withDraw({ kind: "uniform", window: 8 }),
      "order.draw.kind",
      'order.draw.kind is "uniform"; expected one of "weighted_by_priority".',
    ],
    [
      "a draw window of 0",
      withDraw({ kind: "weighted_by_priority", window: 0 }),
      "order.draw.window",
      `order.draw.window is 0; expected an integer from 1 to ${MAX_DRAW_WINDOW}.`,
    ],
    [
      "a fractional draw window",
      withDraw({ kind: "weighted_by_priority", window: 2.5 }),
      "order.draw.window",
      "order.draw.window is 2.5; expected an integer",
    ],
    [
      "a draw window too large",
      withDraw({ kind: "weighted_by_priority", window: MAX_DRAW_WINDOW + 1 }),
      "order.draw.window",
      `order.draw.window is ${MAX_DRAW_WINDOW + 1}; expected an integer from 1 to ${MAX_DRAW_WINDOW}.`,
    ],
    [
      "a draw given as a window in SQL",
      withDraw({ kind: "weighted_by_priority", window: "64) --" }),
      "order.draw.window",
      'order.draw.window is "64) --"; expected an integer',
    ],
  ])("refuses %s with INVALID_CONFIG naming the property and what is allowed", (_label, order, option, message) => {
    const error = refusal(order);
    expect(error.option).toBe(option);
    expect(error.message).toContain(message);
    expect(error.message.startsWith("Strategy custom: ")).toBe(true);
  });

  it("names a claim order in its messages when no source is given", () => {
    expect(() => validateClaimOrder(null)).toThrow(/^Claim order: order is null;/);
  });
});

describe("claimOrderKey", () => {
  it("is the same for equal orders and differs when the order does", () => {
    const a: ClaimOrder = { by: [{ column: "priority", direction: "asc" }], draw: { kind: "weighted_by_priority", window: 8 } };
    const b: ClaimOrder = { draw: { window: 8, kind: "weighted_by_priority" }, by: [{ direction: "asc", column: "priority" }] };
    expect(claimOrderKey(a)).toBe(claimOrderKey(b));
    const keys = [
      a,
      { by: [{ column: "priority", direction: "asc" }] },
      { by: [{ column: "priority", direction: "desc" }] },
      { by: [{ column: "priority", direction: "asc" }], draw: { kind: "weighted_by_priority", window: 9 } },
      {
        by: [
          { column: "priority", direction: "asc" },
          { column: "id", direction: "asc" },
        ],
      },
    ].map((order) => claimOrderKey(order as ClaimOrder));
    expect(new Set(keys).size).toBe(keys.length);
  });
});

describe("buildClaimSql compiles a claim order for SQLite", () => {
  const params = { now: 100, leaseUntil: 1_000, token: "t", workerId: "w", limit: 1, seq: 1 };

  function plan(db: QueueDatabase, sql: string): string {
    return db
      .statement<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(params)
      .map((row) => row.detail)
      .join("\n");
  }

  it("reads through the priority index for an order starting with priority, else the run-after index, never the whole table", () => {
    const db = openTemp();
    const first = (column: ClaimOrderColumn, direction: "asc" | "desc" = "asc") => buildClaimSql({ by: [{ column, direction }] });
    expect(first("priority")).toContain("FROM tasks INDEXED BY tasks_queued_by_priority WHERE");
    expect(first("priority", "desc")).toContain("FROM tasks INDEXED BY tasks_queued_by_priority WHERE");
    for (const column of ["run_after", "created_at", "attempts", "id"] as const) {
      const sql = first(column, "desc");
      expect(sql).toContain("FROM tasks INDEXED BY tasks_queued_by_run_after WHERE");
      const details = plan(db, sql);
      expect(details).toMatch(/USING (COVERING )?INDEX tasks_queued_by_run_after/);
      expect(details).not.toMatch(/SCAN tasks(?! USING)/);
      // Only an order that starts with the index's own column reads it in order.
      if (column === "run_after") expect(details).not.toContain("TEMP B-TREE");
      else expect(details).toContain("USE TEMP B-TREE FOR ORDER BY");
    }
  });

  it("breaks ties by id in the last key's direction unless the order names id", () => {
    expect(buildClaimSql({ by: [{ column: "created_at", direction: "desc" }] })).toContain(
      "ORDER BY created_at DESC, id DESC LIMIT :limit",
    );
    expect(buildClaimSql({ by: [{ column: "priority", direction: "asc" }] })).toContain("ORDER BY priority, id LIMIT :limit");
    expect(
      buildClaimSql({
        by: [
          { column: "id", direction: "desc" },
          { column: "attempts", direction: "asc" },
        ],
      }),
    ).toContain("ORDER BY id DESC, attempts LIMIT :limit");
  });

  it("compiles a weighted draw to a window of candidates in its order and a random key over them", () => {
    const sql = buildClaimSql({ by: [{ column: "run_after", direction: "asc" }], draw: { kind: "weighted_by_priority", window: 32 } });
    expect(sql).toMatch(/^WITH candidates AS \(\n {2}SELECT id, priority FROM tasks INDEXED BY tasks_queued_by_run_after WHERE/);
    expect(sql).toContain("ORDER BY run_after, id LIMIT 32)");
    expect(sql).toContain("SELECT id FROM candidates ORDER BY -ln((abs(random()) + 1.0)");
    expect(sql).toContain("(1 + priority - (SELECT min(priority) FROM candidates)) LIMIT :limit");
  });

  it("refuses an order validateClaimOrder refuses, before any SQL is written", () => {
    const order = { by: [{ column: "id, (SELECT 1)", direction: "asc" }] } as unknown as ClaimOrder;
    expect(() => buildClaimSql(order)).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
  });

  it("takes real rows in the order given, for orders with and without an index", () => {
    const db = openTemp();
    // [priority, run_after, created_at, attempts] for ids 1 to 5; id 6 is not due yet.
    const rows = [
      [2, 10, 40, 0],
      [0, 20, 10, 3],
      [2, 5, 40, 1],
      [1, 20, 30, 1],
      [0, 30, 20, 0],
      [0, 500, 50, 0],
    ];
    const insert = db.statement(
      "INSERT INTO tasks (type, priority, run_after, created_at, attempts, updated_at) VALUES ('t', ?, ?, ?, ?, 0)",
    );
    db.transactionSync(() => {
      for (const row of rows) insert.run(...row);
    });
    const takeAll = (order: ClaimOrder) => {
      const sql = buildClaimSql(order);
      const ids: number[] = [];
      try {
        db.transactionSync((tx) => {
          for (;;) {
            const [row] = claimTasks(tx, sql, params);
            if (row === undefined) break;
            ids.push(row[0]);
          }
          throw new Error("roll back");
        });
      } catch (error) {
        if ((error as Error).message !== "roll back") throw error;
      }
      return ids;
    };
    const by = (...keys: [ClaimOrderColumn, OrderDirection][]): ClaimOrder => ({
      by: keys.map(([column, direction]) => ({ column, direction })),
    });
    expect(takeAll(OLDEST_FIRST)).toEqual([3, 1, 2, 4, 5]);
    expect(takeAll(by(["created_at", "desc"]))).toEqual([3, 1, 4, 5, 2]);
    expect(takeAll(by(["created_at", "asc"]))).toEqual([2, 5, 4, 1, 3]);
    expect(takeAll(by(["attempts", "desc"], ["priority", "asc"]))).toEqual([2, 4, 3, 5, 1]);
    expect(takeAll(by(["priority", "desc"], ["run_after", "desc"]))).toEqual([1, 3, 4, 5, 2]);
    expect(takeAll(by(["id", "desc"]))).toEqual([5, 4, 3, 2, 1]);
  });
});
