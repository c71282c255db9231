import type { Migration } from "./migration.js";

/** The W3C traceparent of the span that enqueued a task, so its processing span can join the trace. */
export const traceParent: Migration = {
  version: 5,
  name: "trace_parent",
  sql: "ALTER TABLE tasks ADD COLUMN trace_parent TEXT;",
};
