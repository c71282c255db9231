/**
 * What every write stamps a task's `change_seq` with: the id of the writing transaction (64-bit,
 * never reused). See changes.ts for why a transaction id and not a sequence.
 */
export const CHANGE_STAMP = "pg_current_xact_id()::text::bigint";
