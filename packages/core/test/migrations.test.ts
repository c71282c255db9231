import {
  buildClaimSql,
  COUNT_BY_STATUS_SQL,
  countTasksByStatus,
  listTasks,
  MIGRATIONS,
  MIGRATIONS_TABLE,
  NEXT_DUE_TIME_SQL,
  openQueueDatabase,
  RECOVER_EXPIRED_LEASES_SQL,
  readSchemaVersion,
  runMigrations,
  SCHEMA_VERSION,
  type TaskStatus,
} from "@queue/core";
import { runTypeScript } from "@queue/test-support";
import Database from "better-sqlite3";
import { describe, expect, it, vi } from "vitest";
import { fixture, MOST_URGENT_FIRST, OLDEST_FIRST, openTemp, tempDbPath } from "./helpers.js";

describe("migrations", () => {
  it("numbers migrations consecutively from 1", () => {
    expect(MIGRATIONS.map((migration) => migration.version)).toEqual(MIGRATIONS.map((_, index) => index + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it("records every applied migration once, and reopening applies nothing again", () => {
    const path = tempDbPath();
    openQueueDatabase({ path }).close();
    const read = () => new Database(path).prepare(`SELECT version, name, applied_at FROM ${MIGRATIONS_TABLE} ORDER BY version`).all();
    const first = read();
    expect(first.map((row) => (row as { name: string }).name)).toEqual(MIGRATIONS.map((migration) => migration.name));
    openQueueDatabase({ path }).close();
    expect(read()).toEqual(first);
  });

  it("applies each migration in its own transaction: a failing one leaves the earlier ones and nothing of itself", () => {
    const connection = new Database(":memory:");
    const good = { version: 1, name: "good", sql: "CREATE TABLE a (x INTEGER)" };
    const bad = { version: 2, name: "bad", sql: "CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1)" };
    expect(() =>
      runMigrations(
        connection,
        [good, bad],
        () => 0,
        (work) => connection.transaction(work).immediate(),
      ),
    ).toThrow(/missing/);
    expect(readSchemaVersion(connection)).toBe(1);
    const tables = connection.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('a', 'b')").all();
    expect(tables).toEqual([{ name: "a" }]);
  });

  it("moves a schema-5 file's status counts onto partial indexes, counting every task as before", () => {
    const path = tempDbPath();
    const raw = new Database(path);
    runMigrations(
      raw,
      MIGRATIONS.slice(0, 5),
      () => 0,
      (work) => raw.transaction(work).immediate(),
    );
    const insert = raw.prepare(
      "INSERT INTO tasks (type, status, run_after, lease_token, lease_until, finished_at, created_at, updated_at) VALUES (?, ?, 0, ?, ?, ?, 0, ?)",
    );
    const statuses: TaskStatus[] = ["queued", "leased", "completed", "dead_letter", "cancelled"];
    raw.transaction(() => {
      for (let n = 0; n < 100; n++) {
        const status = statuses[n % 5] as TaskStatus;
        const final = status !== "queued" && status !== "leased";
        // One finished task without finished_at, which the queue never writes but a file may hold.
        insert.run(
          `type-${n % 3}`,
          status,
          status === "leased" ? "token" : null,
          status === "leased" ? 1 : null,
          final && n !== 2 ? n : null,
          n,
        );
      }
    })();
    const before = raw.prepare("SELECT status, count(*) AS count FROM tasks GROUP BY status").all() as {
      status: TaskStatus;
      count: number;
    }[];
    raw.close();
    const db = openQueueDatabase({ path });
    expect(db.schemaVersion()).toBe(SCHEMA_VERSION);
    expect(countTasksByStatus(db)).toEqual(Object.fromEntries(before.map((row) => [row.status, row.count])));
    expect(db.statement("SELECT finished_at FROM tasks WHERE id = 3").get()).toEqual({ finished_at: 2 });
    expect(listTasks(db, { status: "dead_letter", limit: 100, order: "oldest" })).toHaveLength(20);
    const indexes = db
      .statement<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'index' AND name = 'tasks_by_status_type'")
      .all();
    expect(indexes).toEqual([]);
    db.close();
  });

  it("lets several processes migrate the same new file at once", async () => {
    const path = tempDbPath();
    const results = await Promise.all(Array.from({ length: 4 }, () => runTypeScript(fixture("open.ts"), [path])));
    for (const result of results) {
      expect(result.stderr).toBe("");
      expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, version: SCHEMA_VERSION });
    }
    const rows = new Database(path).prepare(`SELECT version FROM ${MIGRATIONS_TABLE}`).all();
    expect(rows).toHaveLength(SCHEMA_VERSION);
  });
});

describe("schema", () => {
  it("matches the committed snapshot (update with `vitest -u` when adding a migration)", async () => {
    const db = openTemp();
    const rows = db
      .statement<{ type: string; name: string; sql: string | null }>(
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all();
    const text = rows.map((row) => `-- ${row.type} ${row.name}\n${row.sql ?? "(automatic)"};\n`).join("\n");
    await expect(text).toMatchFileSnapshot("./schema.snapshot.sql");
  });

  it("rejects a task with an unknown status, and a leased task without a lease token", () => {
    const db = openTemp();
    const insert = (status: string, token: string | null) =>
      db.transactionSync((tx) =>
        tx
          .statement(
            "INSERT INTO tasks (type, status, run_after, lease_token, lease_until, created_at, updated_at) VALUES ('t', ?, 0, ?, ?, 0, 0)",
          )
          .run(status, token, token === null ? null : 1),
      );
    expect(() => insert("paused", null)).toThrow(expect.objectContaining({ code: "CONSTRAINT" }));
    expect(() => insert("leased", null)).toThrow(expect.objectContaining({ code: "CONSTRAINT" }));
    expect(() => insert("queued", "token")).toThrow(expect.objectContaining({ code: "CONSTRAINT" }));
    expect(() => insert("leased", "token")).not.toThrow();
  });

  it("keeps an idempotency key unique while allowing many tasks without one", () => {
    const db = openTemp();
    const insert = (key: string | null) =>
      db.transactionSync((tx) =>
        tx.statement("INSERT INTO tasks (type, idempotency_key, run_after, created_at, updated_at) VALUES ('t', ?, 0, 0, 0)").run(key),
      );
    insert(null);
    insert(null);
    insert("key-1");
    expect(() => insert("key-1")).toThrow(expect.objectContaining({ code: "UNIQUE_VIOLATION" }));
  });
});

describe.each([
  ["without statistics", false],
  ["after ANALYZE", true],
])("query plans %s", (_label, analyze) => {
  const plan = (db: ReturnType<typeof openTemp>, sql: string, params: Record<string, unknown> = {}) =>
    db
      .statement<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(params)
      .map((row) => row.detail)
      .join("\n");
  const claimParams = { now: 0, leaseUntil: 0, token: "t", workerId: "w", limit: 10, seq: 1 };

  function filledDatabase() {
    const db = openTemp();
    db.transactionSync((tx) => {
      const insert = tx.statement(
        "INSERT INTO tasks (type, status, priority, run_after, finished_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, 0)",
      );
      for (let i = 0; i < 5_000; i++) {
        const finished = i % 10 !== 0;
        insert.run(`type-${i % 7}`, finished ? "completed" : "queued", i % 5, i, finished ? i : null);
      }
    });
    if (analyze) db.connection.exec("ANALYZE");
    return db;
  }

  it("the fifo claim reads the queued-by-run-after index in order, never sorting the queue", () => {
    const details = plan(filledDatabase(), buildClaimSql(OLDEST_FIRST), claimParams);
    expect(details).toMatch(/USING (COVERING )?INDEX tasks_queued_by_run_after/);
    expect(details).not.toContain("TEMP B-TREE");
  });

  it("the claim of a one-type worker without capabilities, nothing paused, reads the same index in order", () => {
    const sql = buildClaimSql(OLDEST_FIRST, { types: "one", capabilities: "none", pauses: false });
    const details = plan(filledDatabase(), sql, { ...claimParams, type: "type-1" });
    expect(details).toMatch(/USING (COVERING )?INDEX tasks_queued_by_run_after/);
    expect(details).not.toContain("TEMP B-TREE");
  });

  it("the priority claim reads the queued-by-priority index in order", () => {
    const details = plan(filledDatabase(), buildClaimSql(MOST_URGENT_FIRST), claimParams);
    expect(details).toMatch(/USING (COVERING )?INDEX tasks_queued_by_priority/);
    expect(details).not.toContain("TEMP B-TREE");
  });

  it("the next due time reads two indexes, not the queue", () => {
    const details = plan(filledDatabase(), NEXT_DUE_TIME_SQL, { now: 0 });
    expect(details).toMatch(/tasks_queued_by_run_after/);
    expect(details).toMatch(/tasks_leased_by_expiry/);
    expect(details).not.toMatch(/SCAN tasks\b/);
  });

  it("status counts are answered from partial indexes, without visiting a row", () => {
    const details = plan(filledDatabase(), COUNT_BY_STATUS_SQL);
    for (const index of ["tasks_queued_by_run_after", "tasks_leased_by_expiry", "tasks_finished_by_time"]) {
      expect(details).toContain(`USING COVERING INDEX ${index}`);
    }
    expect(details).not.toMatch(/SCAN tasks(?! USING)/);
  });

  it("a list of one status reads the index that holds that status, except for completed tasks", () => {
    const db = filledDatabase();
    const listPlan = (status: TaskStatus) => {
      const statements: string[] = [];
      const original = db.statement.bind(db);
      const spy = vi.spyOn(db, "statement").mockImplementation((sql: string) => {
        statements.push(sql);
        return original(sql);
      });
      listTasks(db, { status, type: "type-1", limit: 10, afterId: 100, order: "newest" });
      spy.mockRestore();
      return plan(db, statements[0] as string, { type: "type-1", limit: 10, afterId: 100 });
    };
    expect(listPlan("queued")).toMatch(/INDEX tasks_queued_by_run_after/);
    expect(listPlan("leased")).toMatch(/INDEX tasks_leased_by_expiry/);
    expect(listPlan("dead_letter")).toMatch(/INDEX tasks_dead_letter_by_type/);
    expect(listPlan("cancelled")).toMatch(/INDEX tasks_finished_by_time/);
    // Completed tasks are most of a table: walking it newest first finds a page at once.
    expect(listPlan("completed")).toMatch(/SCAN tasks|USING INTEGER PRIMARY KEY/);
  });

  it("recovering expired leases uses the lease expiry index", () => {
    const details = plan(filledDatabase(), RECOVER_EXPIRED_LEASES_SQL, { now: 0, seq: 1 });
    expect(details).toMatch(/USING (COVERING )?INDEX tasks_leased_by_expiry/);
  });
});
