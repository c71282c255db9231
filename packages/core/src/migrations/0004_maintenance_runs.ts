import type { Migration } from "./migration.js";

/** When each maintenance job last ran, so a schedule-like policy can run what is due. */
export const maintenanceRuns: Migration = {
  version: 4,
  name: "maintenance_runs",
  sql: `
CREATE TABLE queue_maintenance (
  job TEXT PRIMARY KEY,
  last_run_at INTEGER NOT NULL,
  last_result TEXT
) STRICT, WITHOUT ROWID;
`,
};
