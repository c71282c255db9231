import { initial } from "./0001_initial.js";
import { pauses } from "./0002_pauses.js";
import { changeFeed } from "./0003_change_feed.js";
import { maintenanceRuns } from "./0004_maintenance_runs.js";
import { traceParent } from "./0005_trace_parent.js";
import { statusIndexes } from "./0006_status_indexes.js";
import { changeSequence } from "./0007_change_sequence.js";
import type { Migration } from "./migration.js";

export type { Migration } from "./migration.js";

/** Every migration, in order. Append new ones; never edit or reorder released ones. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  initial,
  pauses,
  changeFeed,
  maintenanceRuns,
  traceParent,
  statusIndexes,
  changeSequence,
]);

/** The schema version this code writes and understands. */
export const SCHEMA_VERSION: number = MIGRATIONS.length;
