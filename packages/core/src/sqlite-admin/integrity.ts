// SQLite's own consistency checks of the file: integrity_check and quick_check.
import type { QueueDatabase } from "../database.js";
import { QueueError } from "../errors.js";

export interface IntegrityCheckOptions {
  /** quick_check (faster, skips index contents) instead of integrity_check. */
  readonly quick?: boolean;
  /** The most problems SQLite lists before it stops. Default 100. */
  readonly maxProblems?: number;
}

export interface IntegrityResult {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/** The PRAGMA to run, once its arguments are known to be safe as SQL text. */
function integrityPragma(options: IntegrityCheckOptions): string {
  const maxProblems = options.maxProblems ?? 100;
  // PRAGMA arguments cannot be bound as parameters, so the value is checked before it becomes SQL text:
  // anything else (a table name, say) would change what the check looks at.
  if (!Number.isInteger(maxProblems) || maxProblems < 1) {
    throw new QueueError("INVALID_ARGUMENT", `integrityCheck: maxProblems must be a positive integer; got ${String(maxProblems)}.`);
  }
  return `${options.quick ? "quick_check" : "integrity_check"}(${maxProblems})`;
}

function runIntegrityPragma(db: QueueDatabase, pragma: string): string[] {
  const rows = db.connection.pragma(pragma) as Record<string, unknown>[];
  return rows.map((row) => String(Object.values(row)[0] ?? ""));
}

/**
 * What SQLite's integrity_check (or quick_check) reports, row by row as it reports it: the single
 * row "ok" for a sound file. A row may hold several problems, one per line. Throws when the file is
 * too damaged for the check to run at all.
 */
export function integrityCheckReport(db: QueueDatabase, options: IntegrityCheckOptions = {}): string[] {
  return runIntegrityPragma(db, integrityPragma(options));
}

/** SQLite's integrity_check (thorough) or quick_check (faster, skips index contents). */
export function integrityCheck(db: QueueDatabase, options: IntegrityCheckOptions = {}): IntegrityResult {
  const pragma = integrityPragma(options);
  try {
    const problems = runIntegrityPragma(db, pragma).filter((line) => line !== "ok");
    return { ok: problems.length === 0, problems };
  } catch (error) {
    // A badly damaged file fails the check itself instead of listing problems.
    return { ok: false, problems: [(error as Error).message] };
  }
}
