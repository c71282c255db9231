import type { Migration } from "./migration.js";

/**
 * A commit sequence for the change cursor: every write transaction stamps the tasks it changes
 * with one number greater than any stamped before (`change_seq`), so a reader following
 * (change_seq, id) sees every change in commit order, including a change to a lower id in the
 * same millisecond as the last one it read, which the (updated_at, id) index could not give.
 * Tasks written before this migration keep 0 and come first, in id order. Deleting tasks may
 * remove the highest number: `queue_change_floor` remembers it, so numbers are never given twice.
 */
export const changeSequence: Migration = {
  version: 7,
  name: "change_sequence",
  sql: `
ALTER TABLE tasks ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE queue_change_floor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
INSERT INTO queue_change_floor (id, seq) VALUES (1, 0);
DROP INDEX tasks_by_updated_at;
CREATE INDEX tasks_by_change ON tasks (change_seq, id);
`,
};
