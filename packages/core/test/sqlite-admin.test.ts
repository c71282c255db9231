import {
  countTasks,
  fullTableScans,
  hotStatements,
  inRolledBackTransaction,
  insertTask,
  integrityCheck,
  integrityCheckReport,
  isQueueError,
  listTables,
  probeStatusConstraint,
  QUEUED_BY_PRIORITY_INDEX,
  readConnectionSettings,
  readJournalMode,
} from "@queue/core";
import { describe, expect, it } from "vitest";
import { openTemp } from "./helpers.js";

const CLAIM_ORDERS = [
  { name: "oldest", order: { by: [{ column: "run_after", direction: "asc" }] } },
  {
    name: "urgent",
    order: {
      by: [
        { column: "priority", direction: "asc" },
        { column: "run_after", direction: "asc" },
      ],
    },
  },
] as const;

const newTask = {
  type: "probe",
  payload: "{}",
  priority: 0,
  runAfter: 0,
  maxAttempts: 1,
  idempotencyKey: null,
  timeoutMs: null,
  requiredCapabilities: null,
  traceParent: null,
};

describe("SQLite diagnostics", () => {
  it("reads the file's tables, journal mode and the connection's own settings", () => {
    const db = openTemp();
    expect(listTables(db)).toEqual(expect.arrayContaining(["tasks", "workers", "task_logs", "queue_migrations"]));
    expect(readJournalMode(db)).toBe("wal");
    expect(readConnectionSettings(db)).toEqual({ foreignKeys: true, synchronous: 1, busyTimeoutMs: db.pragmas.busyTimeoutMs });
  });

  it("a rolled-back transaction returns what its callback returned and leaves nothing written", () => {
    const db = openTemp();
    const id = inRolledBackTransaction(db, (tx) => insertTask(tx, newTask, 1).row.id);
    expect(id).toBe(1);
    expect(countTasks(db)).toBe(0);
    expect(() =>
      inRolledBackTransaction(db, () => {
        throw new RangeError("from the callback");
      }),
    ).toThrow("from the callback");
  });

  it("the status constraint probe reports the typed error that refused the row, and writes nothing", () => {
    const db = openTemp();
    expect(isQueueError(probeStatusConstraint(db), "CONSTRAINT")).toBe(true);
    expect(countTasks(db)).toBe(0);
  });

  it("the status constraint probe says when the row was accepted, and rolls it back all the same", () => {
    const db = openTemp();
    db.connection.pragma("ignore_check_constraints = ON");
    expect(probeStatusConstraint(db)).toBeUndefined();
    expect(countTasks(db)).toBe(0);
  });

  it("the hot statements (claims in the orders given, counts, recovery, next due) all read through indexes", () => {
    const db = openTemp();
    const statements = hotStatements(CLAIM_ORDERS);
    expect(statements.map((statement) => statement.name)).toEqual([
      "claim (oldest)",
      "claim (urgent)",
      "status counts",
      "lease recovery",
      "next due time",
    ]);
    expect(fullTableScans(db, statements)).toEqual([]);
  });

  it("a statement whose index is gone is named with the missing index", () => {
    const db = openTemp();
    db.connection.exec(`DROP INDEX ${QUEUED_BY_PRIORITY_INDEX}`);
    expect(fullTableScans(db, hotStatements(CLAIM_ORDERS))).toEqual([`claim (urgent) (index ${QUEUED_BY_PRIORITY_INDEX} is missing)`]);
  });

  it("integrity checks report a sound file as ok, and refuse a limit that is not a positive integer", () => {
    const db = openTemp();
    expect(integrityCheckReport(db, { quick: true, maxProblems: 20 })).toEqual(["ok"]);
    expect(integrityCheck(db)).toEqual({ ok: true, problems: [] });
    expect(() => integrityCheckReport(db, { maxProblems: 0 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
