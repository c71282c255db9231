import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openQueueDatabase } from "@queue/core";
import { validateWorkerIntegration } from "./integration.js";
import { type CheckResult, type ValidationReport, worstStatus } from "./result.js";
import { QueueValidator } from "./validator.js";

export interface PerformanceFigures {
  readonly insertsPerSecond: number;
  readonly selectsPerSecond: number;
  readonly updatesPerSecond: number;
}

/** A small benchmark of single-row insert, select and update rates on a temporary file (not yours). */
export function measurePerformance(rows = 2_000): PerformanceFigures {
  const directory = mkdtempSync(join(tmpdir(), "queue-validate-"));
  const db = openQueueDatabase({ path: join(directory, "perf.db") });
  try {
    const rate = (work: (n: number) => void) => {
      const started = performance.now();
      for (let n = 0; n < rows; n++) work(n);
      return Math.round((rows / (performance.now() - started)) * 1000);
    };
    const insert = db.statement("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('perf', '{}', 0, 0, 0)");
    const select = db.statement("SELECT id, payload FROM tasks WHERE id = ?");
    const update = db.statement("UPDATE tasks SET progress = ?, updated_at = ? WHERE id = ?");
    return {
      insertsPerSecond: rate(() => db.transactionSync(() => insert.run())),
      selectsPerSecond: rate((n) => select.get(n + 1)),
      updatesPerSecond: rate((n) => db.transactionSync(() => update.run(n, n, n + 1))),
    };
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
