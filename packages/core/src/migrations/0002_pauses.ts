import type { Migration } from "./migration.js";

/**
 * Paused task types, shared by every process on the file. The row with type '*' pauses the whole
 * queue. Enqueueing still works while paused; only claiming stops.
 */
export const pauses: Migration = {
  version: 2,
  name: "pauses",
  sql: `
CREATE TABLE queue_pauses (
  type TEXT PRIMARY KEY,
  paused_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
`,
};
