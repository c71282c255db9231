import { buildClaimSql, claimedTask, claimTasks, openQueueDatabase, type QueueDatabase } from "@queue/core";
import { BUILT_IN_STRATEGIES, getStrategy } from "@queue/scheduling";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

let db: QueueDatabase;
afterEach(() => {
  db?.close();
  removeTempDirs();
});

const params = { now: 50, leaseUntil: 1_000, token: "t", workerId: "w", limit: 1, seq: 1 };

/** Queued tasks [priority, run_after] with ids 1 to 6; the last is not due at `params.now`. */
const QUEUE = [
  [5, 10],
  [1, 20],
  [5, 5],
  [0, 30],
  [1, 20],
  [0, 100],
] as const;

function seed(): void {
  db = openQueueDatabase({ path: tempDbPath() });
  const insert = db.statement("INSERT INTO tasks (type, priority, run_after, created_at, updated_at) VALUES ('t', ?, ?, 0, 0)");
  db.transactionSync(() => {
    for (const [priority, runAfter] of QUEUE) insert.run(priority, runAfter);
  });
}

/** Claims one task at a time until none is left: the order a claim takes them in. */
function claimOrder(sql: string): number[] {
  const ids: number[] = [];
  for (;;) {
    const [row] = db.transactionSync((tx) => claimTasks(tx, sql, params));
    if (row === undefined) return ids;
    ids.push(row[0]);
  }
}

const INTENDED = {
  fifo: { index: "tasks_queued_by_run_after", order: [3, 1, 2, 5, 4] },
  lifo: { index: "tasks_queued_by_run_after", order: [4, 5, 2, 1, 3] },
  priority: { index: "tasks_queued_by_priority", order: [4, 2, 5, 3, 1] },
  weighted_random: { index: "tasks_queued_by_run_after", order: undefined },
} as const;

describe.each(BUILT_IN_STRATEGIES.map((strategy) => [strategy.name, strategy] as const))("the %s claim order", (name, strategy) => {
  const intended = INTENDED[name as keyof typeof INTENDED];

  it("compiles to a claim that reads the queue through its index on a migrated file", () => {
    db = openQueueDatabase({ path: tempDbPath() });
    db.transactionSync((tx) => {
      const insert = tx.statement(
        "INSERT INTO tasks (type, status, priority, run_after, finished_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)",
      );
      for (let i = 0; i < 3_000; i++) insert.run(`type-${i % 5}`, i % 4 === 0 ? "queued" : "completed", i % 7, i, i % 4 === 0 ? null : i);
    });
    const sql = buildClaimSql(strategy.order, { types: true, capabilities: true });
    expect(sql).toContain(`INDEXED BY ${intended.index}`);
    const plan = db
      .statement<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all({ ...params, types: '["type-1"]', capabilities: "[]" })
      .map((row) => row.detail)
      .join("\n");
    expect(plan).toMatch(new RegExp(`USING (COVERING )?INDEX ${intended.index}`));
    expect(plan).not.toMatch(/SCAN tasks(?! USING)/);
    // A strict order reads the index in order; a draw sorts only its window of candidates.
    if (strategy.order.draw === undefined) expect(plan).not.toContain("TEMP B-TREE");
  });

  it("takes due tasks in its order, one claim at a time, and its compare puts a claimed batch in the same order", () => {
    seed();
    const sql = buildClaimSql(strategy.order);
    const order = claimOrder(sql);
    expect([...order].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    if (intended.order === undefined) return;
    expect(order).toEqual(intended.order);
    db.close();
    seed();
    const lease = { token: "t", workerId: "w", leaseUntil: params.leaseUntil, now: params.now };
    const batch = db.transactionSync((tx) => claimTasks(tx, sql, { ...params, limit: 10 })).map((values) => claimedTask(values, lease));
    expect(batch.sort(getStrategy(name).compare).map((task) => task.id)).toEqual(intended.order);
  });
});
