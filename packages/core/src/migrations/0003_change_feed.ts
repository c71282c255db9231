import type { Migration } from "./migration.js";

/** Lets a watcher in any process follow task changes in order: every write sets updated_at. */
export const changeFeed: Migration = {
  version: 3,
  name: "change_feed",
  sql: "CREATE INDEX tasks_by_updated_at ON tasks (updated_at, id);",
};
