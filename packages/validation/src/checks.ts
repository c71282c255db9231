import {
  countExpiredLeases,
  fullTableScans,
  hotStatements,
  inRolledBackTransaction,
  insertTask,
  integrityCheckReport,
  isQueueError,
  listTables,
  listWorkers,
  probeStatusConstraint,
  probeWriteIsolation,
  type QueueDatabase,
  readConnectionSettings,
  readJournalMode,
  SCHEMA_VERSION,
  selectTask,
  taskFromRow,
} from "@queue/core";
import { BUILT_IN_STRATEGIES } from "@queue/scheduling";
import type { CheckStatus } from "./result.js";

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
  const tables = new Set(listTables(db));
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
  const problems: string[] = [];
  const journalMode = readJournalMode(db);
  if (journalMode !== "wal") problems.push(`journal_mode is ${journalMode}, not wal`);
  if (!connectionSettings) {
    return problems.length > 0
      ? {
          status: "fail",
          message: problems[0] ?? "",
          hint: "open the file once with openQueueDatabase() (or `queue init`), which switches it to WAL",
        }
      : pass("journal_mode wal");
  }
  const { foreignKeys, synchronous, busyTimeoutMs } = readConnectionSettings(db);
  if (!foreignKeys) problems.push("foreign_keys is off on this connection");
  if (problems.length > 0)
    return {
      status: "fail",
      message: problems.join("; "),
      hint: "open the file with openQueueDatabase(), which applies PRODUCTION_PRAGMAS",
    };
  if (synchronous === 0)
    return { status: "warn", message: "synchronous is OFF: a power loss can corrupt the file", hint: "use synchronous NORMAL or FULL" };
  return pass(
    `journal_mode wal, synchronous ${["off", "normal", "full", "extra"][synchronous]}, foreign_keys on, busy_timeout ${busyTimeoutMs} ms`,
  );
}

/** Writes a task with awkward values and reads it back, all in a transaction that is rolled back. */
export function checkModelRoundTrip(writer: QueueDatabase): Finding {
  const payload = { text: 'naïve ☃ \u0000 "quoted"', nested: { list: [1, 2.5, null, true], empty: {} }, ["__proto__"]: "kept" };
  const json = JSON.stringify(payload);
  const stored = inRolledBackTransaction(writer, (tx) => {
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
    return selectTask(tx, row.id);
  });
  const task = stored === undefined ? undefined : taskFromRow(stored);
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

/**
 * What another process sees while this one holds an uncommitted write: it must not see the write,
 * and it must not get the write lock. Run in a child process, so file locking between processes is
 * what is tested (a network file system without working locks fails it), not two connections of
 * one process.
 */
export function checkIsolation(writer: QueueDatabase): Finding {
  if (writer.path === ":memory:") {
    return { status: "warn", message: "not run: an in-memory database has no second connection", hint: "validate a file" };
  }
  const probe = probeWriteIsolation(writer);
  if (!probe.ran) {
    return {
      status: "warn",
      message: `not run: the second process failed (${probe.problem})`,
      hint: "run the validator where it may start node",
    };
  }
  if (probe.sawUncommittedWrite) {
    return {
      status: "fail",
      message: "another process saw an uncommitted write",
      hint: "this SQLite build or connection reads uncommitted data; report it with your setup",
    };
  }
  if (probe.gotWriteLock) {
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
  const statements = hotStatements(BUILT_IN_STRATEGIES);
  const scanning = fullTableScans(db, statements);
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
  const error = probeStatusConstraint(writer);
  if (error === undefined) {
    return {
      status: "fail",
      message: "the status CHECK constraint accepted an invalid status",
      hint: "the schema was altered; restore a backup",
    };
  }
  if (isQueueError(error, "CONSTRAINT")) return pass("SQLite errors surface as typed QueueErrors (CONSTRAINT), nothing written");
  return { status: "fail", message: `a constraint violation surfaced as ${String(error)}`, hint: "report this with the stack" };
}

export function checkIntegrity(db: QueueDatabase, thorough: boolean): Finding {
  try {
    const rows = integrityCheckReport(db, { quick: !thorough, maxProblems: 20 });
    // SQLite may join several problems into one row, one per line, under a "*** in database" header.
    const problems = rows
      .flatMap((row) => row.split("\n"))
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
