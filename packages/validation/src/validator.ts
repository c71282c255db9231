import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { isQueueError, type JournalMode, openQueueDatabase, type QueueDatabase, readJournalMode, resolveDatabasePath } from "@queue/core";

/** Journal modes a write connection can open a file in without changing it. */
const KEPT_JOURNAL_MODES: readonly JournalMode[] = ["wal", "delete", "truncate", "persist"];

import {
  checkErrorHandling,
  checkIntegrity,
  checkIsolation,
  checkLeases,
  checkModelRoundTrip,
  checkPragmas,
  checkQueryPlans,
  checkSchema,
  checkWorkers,
  type Finding,
} from "./checks.js";
import { type CheckResult, type ValidationReport, worstStatus } from "./result.js";

export interface ValidatorOptions {
  /** Run integrity_check instead of quick_check. */
  readonly thorough?: boolean;
  /** A worker is stale after this long without a heartbeat. Default 60 s. */
  readonly staleWorkerMs?: number;
}

/**
 * Checks a queue file and the environment around it. Safe on a file that workers are using: reads
 * go through a read-only connection, and the checks that must write do so in transactions that are
 * rolled back. A file that cannot be opened yields failing checks with the reason, not an exception.
 */
export class QueueValidator {
  readonly path: string;
  readonly #given: QueueDatabase | undefined;
  readonly #options: ValidatorOptions;

  constructor(pathOrDb?: string | QueueDatabase, options: ValidatorOptions = {}) {
    this.#given = typeof pathOrDb === "object" ? pathOrDb : undefined;
    this.path = typeof pathOrDb === "object" ? pathOrDb.path : resolveDatabasePath({ path: pathOrDb });
    this.#options = options;
  }

  async validateAll(): Promise<ValidationReport> {
    const checks: CheckResult[] = [];
    const run = (name: string, check: () => Finding) => {
      const started = performance.now();
      let finding: Finding;
      try {
        finding = check();
      } catch (error) {
        finding = {
          status: "fail",
          message: (error as Error).message,
          hint: isQueueError(error) ? "see the message" : "unexpected; report it with the stack",
        };
      }
      checks.push({ name, ...finding, durationMs: Math.round((performance.now() - started) * 100) / 100 });
      return finding.status;
    };

    if (run("configuration", () => this.#checkConfiguration()) === "fail") return this.#report(checks);
    let reader: QueueDatabase | undefined = this.#given;
    if (
      run("connection", () => {
        reader ??= openQueueDatabase({ path: this.path, readonly: true });
        return { status: "pass", message: `opened ${this.path} read-only` };
      }) === "fail" ||
      reader === undefined
    ) {
      return this.#report(checks);
    }
    const db = reader;
    let writer: QueueDatabase | undefined;
    try {
      run("schema", () => checkSchema(db));
      run("integrity", () => checkIntegrity(db, this.#options.thorough ?? false));
      run("query plans", () => checkQueryPlans(db));
      run("leases", () => checkLeases(db));
      run("workers", () => checkWorkers(db, this.#options.staleWorkerMs ?? 60_000));
      // Before any write connection exists: opening one switches the file to WAL.
      run("pragmas", () => checkPragmas(db, this.#given !== undefined));
      let writeProblem: string | undefined;
      try {
        // Validating must not change the file: the write checks keep its journal mode as found.
        const found = readJournalMode(db);
        const journalMode = (KEPT_JOURNAL_MODES as readonly string[]).includes(found) ? (found as JournalMode) : undefined;
        if (this.#given === undefined && journalMode === undefined) writeProblem = `its journal mode is ${found}`;
        else writer = this.#given ?? openQueueDatabase({ path: this.path, migrate: false, pragmas: { journalMode } });
      } catch (error) {
        writeProblem = (error as Error).message;
      }
      const needsWriter = (name: string, check: (writer: QueueDatabase) => Finding) =>
        run(name, () =>
          writer === undefined
            ? {
                status: "warn",
                message: `not run: the file cannot be opened for writing (${writeProblem})`,
                hint: "run it where the file is writable",
              }
            : check(writer),
        );
      needsWriter("model round trip", checkModelRoundTrip);
      needsWriter("transaction isolation", checkIsolation);
      needsWriter("error handling", checkErrorHandling);
    } finally {
      if (this.#given === undefined) {
        writer?.close();
        db.close();
      }
    }
    return this.#report(checks);
  }

  #checkConfiguration(): Finding {
    if (this.path === ":memory:") {
      return this.#given === undefined
        ? {
            status: "fail",
            message: "a new in-memory database has nothing to validate",
            hint: "pass the path of a queue file, or the open QueueDatabase to check",
          }
        : { status: "pass", message: "in-memory database" };
    }
    const stats = statSync(this.path, { throwIfNoEntry: false });
    if (stats === undefined)
      return { status: "fail", message: `${this.path} does not exist`, hint: "check --db / QUEUE_DB_PATH, or create it with `queue init`" };
    if (stats.isDirectory())
      return { status: "fail", message: `${this.path} is a directory`, hint: "point at the database file inside it" };
    return { status: "pass", message: `${this.path}, ${stats.size} bytes` };
  }

  #report(checks: CheckResult[]): ValidationReport {
    return { path: this.path, at: new Date().toISOString(), status: worstStatus(checks), checks };
  }
}
