import type { Migration } from "./migration.js";

/**
 * Drops the full (status, type) index, which every insert, claim and completion had to update
 * (about a quarter of the index writes in a task's life) for the sake of occasional counts and
 * dead-letter queries. Those now read partial indexes that the hot path already keeps, or one that
 * only dead-lettered tasks enter:
 * - queued tasks by type: the queued-by-run-after index, which now carries the type (so counts and
 *   one-type claims read the type without visiting the row);
 * - leased tasks: the lease expiry index; finished tasks: the finished-by-time index, which holds
 *   every task in a final status (each of those transitions sets finished_at);
 * - dead-lettered tasks by type: a new partial index.
 * Rows in a final status without finished_at (which the queue never writes) get one, so that the
 * finished-by-time index counts them.
 */
export const statusIndexes: Migration = {
  version: 6,
  name: "status_indexes",
  sql: `
UPDATE tasks SET finished_at = updated_at
  WHERE finished_at IS NULL AND status IN ('completed', 'dead_letter', 'cancelled');
DROP INDEX tasks_by_status_type;
DROP INDEX tasks_queued_by_run_after;
CREATE INDEX tasks_queued_by_run_after ON tasks (run_after, id, type) WHERE status = 'queued';
CREATE INDEX tasks_dead_letter_by_type ON tasks (type) WHERE status = 'dead_letter';
`,
};
