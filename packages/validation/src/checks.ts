import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import {
  buildClaimSql,
  COUNT_BY_STATUS_SQL,
  countExpiredLeases,
  insertTask,
  isQueueError,
  listWorkers,
  NEXT_DUE_TIME_SQL,
  type QueueDatabase,
  RECOVER_EXPIRED_LEASES_SQL,
  SCHEMA_VERSION,
  TASK_COLUMNS,
  type TaskRow,
  taskFromRow,
} from "@queue/core";
import { BUILT_IN_STRATEGIES } from "@queue/scheduling";
import type { CheckStatus } from "./result.js";

const requireHere = createRequire(import.meta.url);

/** What a check returns; the validator adds its name and timing. */
export interface Finding {
  readonly status: CheckStatus;
  readonly message: string;
  readonly hint?: string;
}

const pass = (message: string): Finding => ({ status: "pass", message });

export const REQUIRED_TABLES = ["tasks", "workers", "task_logs", "tasks_archive", "queue_migrations", "queue_pauses", "queue_maintenance"];

export function checkSchema(db: QueueDatabase): Finding {
  const version = db.schemaVersion();
  if (version > SCHEMA_VERSION) {
    return {
      status: "fail",
      message: `schema version ${version} is newer than this code's ${SCHEMA_VERSION}`,
      hint: "upgrade @queue/* to a release that knows it",
    };
  }
  if (version < SCHEMA_VERSION) {
    return {
      status: "warn",
      message: `schema version ${version}; this code migrates it to ${SCHEMA_VERSION} when opened writable`,
      hint: "run `queue init` once",
    };
  }
  const tables = new Set(
    db
      .statement<{ name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'")
      .all()
      .map((row) => row.name),
  );
  const missing = REQUIRED_TABLES.filter((table) => !tables.has(table));
  if (missing.length > 0)
    return {
      status: "fail",
      message: `tables missing: ${missing.join(", ")}`,
      hint: "the file was altered outside the queue; restore a backup",
    };
  return pass(`schema version ${version}, all ${REQUIRED_TABLES.length} tables present`);
}

/**
 * The file's journal mode (a property of the file, read before anything opens it for writing) and,
 * for a connection the caller opened (`connectionSettings`), that connection's own settings.
 */
export function checkPragmas(db: QueueDatabase, connectionSettings: boolean): Finding {
  const value = (name: string) => db.connection.pragma(name, { simple: true });
  const problems: string[] = [];
  if (value("journal_mode") !== "wal") problems.push(`journal_mode is ${String(value("journal_mode"))}, not wal`);
  if (!connectionSettings) {
    return problems.length > 0
      ? {
          status: "fail",
          message: problems[0] ?? "",
          hint: "open the file once with openQueueDatabase() (or `queue init`), which switches it to WAL",
        }
      : pass("journal_mode wal");
  }
  if (value("foreign_keys") !== 1) problems.push("foreign_keys is off on this connection");
  const synchronous = value("synchronous") as number;
  if (problems.length > 0)
    return {
      status: "fail",
      message: problems.join("; "),
      hint: "open the file with openQueueDatabase(), which applies PRODUCTION_PRAGMAS",
    };
  if (synchronous === 0)
    return { status: "warn", message: "synchronous is OFF: a power loss can corrupt the file", hint: "use synchronous NORMAL or FULL" };
  return pass(
    `journal_mode wal, synchronous ${["off", "normal", "full", "extra"][synchronous]}, foreign_keys on, busy_timeout ${String(value("busy_timeout"))} ms`,
  );
}

/** Writes a task with awkward values and reads it back, all in a transaction that is rolled back. */
export function checkModelRoundTrip(writer: QueueDatabase): Finding {
  const payload = { text: 'naïve ☃ \u0000 "quoted"', nested: { list: [1, 2.5, null, true], empty: {} }, ["__proto__"]: "kept" };
  const json = JSON.stringify(payload);
  let readBack: unknown;
  try {
    writer.transactionSync((tx) => {
      const { row } = insertTask(
        tx,
        {
          type: "queue-validation",
          payload: json,
          priority: -7,
          runAfter: 1,
          maxAttempts: 2,
          idempotencyKey: null,
          timeoutMs: 5,
          requiredCapabilities: '["x"]',
          traceParent: null,
        },
        2,
      );
      const stored = tx.statement<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = ?`).get(row.id) as TaskRow;
      readBack = taskFromRow(stored);
      throw new RollBack();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  const task = readBack as ReturnType<typeof taskFromRow> | undefined;
  const ok =
    task !== undefined &&
    JSON.stringify(task.payload) === json &&
    task.priority === -7 &&
    task.runAfter.getTime() === 1 &&
    task.requiredCapabilities[0] === "x";
  return ok
    ? pass("a task with unicode, nulls and nested JSON reads back exactly (rolled back)")
    : { status: "fail", message: "a stored task did not read back as written", hint: "report this with the file's SQLite version" };
}

class RollBack extends Error {}

/**
 * What another process sees while this one holds an uncommitted write: it must not see the write,
 * and it must not get the write lock. Run in a child process, so file locking between processes is
 * what is tested (a network file system without working locks fails it), not two connections of
 * one process.
 */
const OTHER_PROCESS_PROBE = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2], { timeout: 0 });
const seen = db.prepare("SELECT count(*) AS n FROM queue_pauses WHERE type = 'queue-validation-isolation'").get().n;
let locked = false;
try { db.exec("BEGIN IMMEDIATE"); db.exec("ROLLBACK"); } catch (error) { locked = error.code === "SQLITE_BUSY"; }
db.close();
process.stdout.write(JSON.stringify({ seen, locked }));`;

export function checkIsolation(writer: QueueDatabase): Finding {
  if (writer.path === ":memory:") {
    return { status: "warn", message: "not run: an in-memory database has no second connection", hint: "validate a file" };
  }
  let seen: { seen: number; locked: boolean } | undefined;
  let problem = "";
  try {
    writer.transactionSync((tx) => {
      tx.statement("INSERT INTO queue_pauses (type, paused_at) VALUES ('queue-validation-isolation', 0)").run();
      const child = spawnSync(process.execPath, ["-e", OTHER_PROCESS_PROBE, requireHere.resolve("better-sqlite3"), writer.path], {
        encoding: "utf8",
        timeout: 15_000,
      });
      if (child.status === 0) seen = JSON.parse(child.stdout) as { seen: number; locked: boolean };
      else problem = (child.error?.message ?? child.stderr.trim().split("\n").pop() ?? `exit ${child.status}`).slice(0, 300);
      throw new RollBack();
    });
  } catch (error) {
    if (!(error instanceof RollBack)) throw error;
  }
  if (seen === undefined) {
    return {
      status: "warn",
      message: `not run: the second process failed (${problem})`,
      hint: "run the validator where it may start node",
    };
  }
  if (seen.seen !== 0) {
    return {
      status: "fail",
      message: "another process saw an uncommitted write",
      hint: "this SQLite build or connection reads uncommitted data; report it with your setup",
    };
  }
  if (!seen.locked) {
    return {
      status: "fail",
      message: "another process took the write lock while this one held it",
      hint: "file locking does not work here (a network file system?): keep the queue file on a local disk",
    };
  }
  return pass("another process neither sees uncommitted writes nor gets the write lock while it is held");
}

/** The hot statements must read indexes, never the whole tasks table (by EXPLAIN QUERY PLAN). */
export function checkQueryPlans(db: QueueDatabase): Finding {
  const statements: [string, string][] = [
    ...BUILT_IN_STRATEGIES.map((strategy): [string, string] => [
      `claim (${strategy.name})`,
      buildClaimSql(strategy.order, { types: true, capabilities: true }),
    ]),
    ["status counts", COUNT_BY_STATUS_SQL],
    ["lease recovery", RECOVER_EXPIRED_LEASES_SQL],
    ["next due time", NEXT_DUE_TIME_SQL],
  ];
  const scanning: string[] = [];
  for (const [name, sql] of statements) {
    const params = { now: 0, leaseUntil: 0, token: "", workerId: "", limit: 1, types: "[]", capabilities: "[]", seq: 1 };
    let plan: string[];
    try {
      const statement = db.connection.prepare(`EXPLAIN QUERY PLAN ${sql}`);
      plan = (sql.includes(":") ? statement.all(params) : statement.all()).map((row) => (row as { detail: string }).detail);
    } catch (error) {
      // The statements name their indexes (INDEXED BY): a dropped one fails to prepare.
      const missing = /no such index: (\S+)/.exec((error as Error).message);
      if (missing === null) throw error;
      scanning.push(`${name} (index ${missing[1]} is missing)`);
      continue;
    }
    if (plan.some((detail) => /^SCAN tasks(?! USING)/.test(detail))) scanning.push(name);
  }
  return scanning.length === 0
    ? pass(`${statements.length} hot statements all read through indexes`)
    : {
        status: "fail",
        message: `full table scans in: ${scanning.join(", ")}`,
        hint: "an index is missing; compare the schema with a fresh file (`queue init` on a new path)",
      };
}

/** Provokes a constraint error in a rolled-back transaction: it must come back as a typed QueueError. */
export function checkErrorHandling(writer: QueueDatabase): Finding {
  try {
    writer.transactionSync((tx) =>
      tx
        .statement(
          "INSERT INTO tasks (type, status, run_after, created_at, updated_at) VALUES ('queue-validation', 'no-such-status', 0, 0, 0)",
        )
        .run(),
    );
  } catch (error) {
    if (isQueueError(error, "CONSTRAINT")) return pass("SQLite errors surface as typed QueueErrors (CONSTRAINT), nothing written");
    return { status: "fail", message: `a constraint violation surfaced as ${String(error)}`, hint: "report this with the stack" };
  }
  return {
    status: "fail",
    message: "the status CHECK constraint accepted an invalid status",
    hint: "the schema was altered; restore a backup",
  };
}

export function checkIntegrity(db: QueueDatabase, thorough: boolean): Finding {
  try {
    const rows = db.connection.pragma(thorough ? "integrity_check(20)" : "quick_check(20)") as Record<string, string>[];
    // SQLite may join several problems into one row, one per line, under a "*** in database" header.
    const problems = rows
      .flatMap((row) => String(Object.values(row)[0]).split("\n"))
      .filter((line) => line !== "ok" && line.trim() !== "" && !line.startsWith("*** in database"));
    return problems.length === 0
      ? pass(`${thorough ? "integrity_check" : "quick_check"} ok`)
      : {
          status: "fail",
          message: `${problems.length} problem(s): ${problems.slice(0, 3).join("; ")}`,
          hint: "restore the latest backup (`queue restore`)",
        };
  } catch (error) {
    return {
      status: "fail",
      message: `the check itself failed: ${(error as Error).message}`,
      hint: "the file is damaged; restore the latest backup",
    };
  }
}

export function checkLeases(db: QueueDatabase): Finding {
  const expired = countExpiredLeases(db, db.clock.now());
  return expired === 0
    ? pass("no expired leases waiting for recovery")
    : {
        status: "warn",
        message: `${expired} lease(s) expired without being recovered`,
        hint: "start a worker (they recover expired leases), or run `queue recover`",
      };
}

export function checkWorkers(db: QueueDatabase, staleMs: number): Finding {
  const now = db.clock.now();
  const workers = listWorkers(db);
  const stale = workers.filter((worker) => now - worker.heartbeat_at > staleMs);
  if (stale.length > 0) {
    return {
      status: "warn",
      message: `${stale.length} of ${workers.length} worker(s) stopped sending heartbeats: ${stale.map((worker) => worker.id).join(", ")}`,
      hint: "they died or hang; cleanupStaleWorkers() removes them once you have checked",
    };
  }
  return pass(`${workers.length} worker(s) registered, none stale`);
}
