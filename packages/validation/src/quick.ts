import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { measureStatementRates, openQueueDatabase, type StatementRates } from "@queue/core";
import { validateWorkerIntegration } from "./integration.js";
import { type CheckResult, type ValidationReport, worstStatus } from "./result.js";
import { QueueValidator } from "./validator.js";

/** Single-row insert, select and update rates, per second. */
export type PerformanceFigures = StatementRates;

/** A small benchmark of single-row insert, select and update rates on a temporary file (not yours). */
export function measurePerformance(rows = 2_000): PerformanceFigures {
  const directory = mkdtempSync(join(tmpdir(), "queue-validate-"));
  const db = openQueueDatabase({ path: join(directory, "perf.db") });
  try {
    return measureStatementRates(db, rows);
  } finally {
    db.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/**
 * Everything on a fresh temporary database, for CI: all checks, a worker round trip and the small
 * benchmark. The temporary file is removed afterwards.
 */
export async function quickValidate(): Promise<ValidationReport & { readonly performance: PerformanceFigures }> {
  const directory = mkdtempSync(join(tmpdir(), "queue-quick-"));
  const path = join(directory, "queue.db");
  try {
    openQueueDatabase({ path }).close();
    const report = await new QueueValidator(path).validateAll();
    const db = openQueueDatabase({ path });
    let integration: CheckResult;
    try {
      integration = await validateWorkerIntegration(db);
    } finally {
      db.close();
    }
    const checks = [...report.checks, integration];
    return { ...report, checks, status: worstStatus(checks), performance: measurePerformance() };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
