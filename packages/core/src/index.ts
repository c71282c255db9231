export { type BusyRetryPolicy, DEFAULT_BUSY_RETRY, resolveBusyRetry, retryOnBusy, retryOnBusySync } from "./busy-retry.js";
export { runningCheckpointers } from "./checkpointer.js";
export {
  CLAIM_ORDER_COLUMNS,
  type ClaimOrder,
  type ClaimOrderColumn,
  claimOrderKey,
  claimOrderKeys,
  DRAW_KINDS,
  MAX_DRAW_WINDOW,
  ORDER_DIRECTIONS,
  type OrderDirection,
  type OrderKey,
  validateClaimOrder,
  type WeightedDraw,
} from "./claim-order.js";
export { type Clock, systemClock, TestClock } from "./clock.js";
export { BACKGROUND_CHECKPOINT_AFTER, type CheckpointMode, type FileIdentity, QueueDatabase } from "./database.js";
export { canUseDatabaseThread, DatabaseThread, type DatabaseThreadOps, serveDatabaseThread } from "./database-thread.js";
export {
  AtomicFileWriter,
  DurableAppendFile,
  fileError,
  fsyncDirectory,
  writeFileDurably,
  writeFully,
} from "./durable-files.js";
export { describeValue, invalidConfig, isQueueError, QueueError, type QueueErrorCode, type QueueErrorOptions } from "./errors.js";
export { TypedEmitter } from "./events.js";
export { type SerializeJsonOptions, serializeJson } from "./json.js";
export { localWorkerCount, localWorkerWaiting, notifyLocalWorkers, onLocalWork } from "./local-wakeup.js";
export { MIGRATIONS, type Migration, SCHEMA_VERSION } from "./migrations/index.js";
export { MIGRATIONS_TABLE, readSchemaVersion, runMigrations } from "./migrations/runner.js";
export { dateFromMillis, parseJsonColumn } from "./models/json.js";
export { TASK_LOG_COLUMNS, TASK_LOG_ROW_FIELDS, type TaskLogRow, taskLogFromRow } from "./models/task-log-row.js";
export { TASK_COLUMNS, TASK_ROW_FIELDS, type TaskRow, taskFromRow } from "./models/task-row.js";
export { WORKER_COLUMNS, type WorkerRow, workerFromRow } from "./models/worker-row.js";
export { type OpenQueueDatabaseOptions, openQueueDatabase } from "./open.js";
export { DATABASE_PATH_ENV, isServerLocation, type ResolveDatabasePathOptions, resolveDatabasePath } from "./paths.js";
export {
  type JournalMode,
  PRODUCTION_PRAGMAS,
  type PragmaSettings,
  resolvePragmas,
  type SynchronousMode,
  type TempStore,
} from "./pragmas.js";
export {
  buildClaimProbeSql,
  buildClaimSql,
  CLAIM_COLUMNS,
  CLAIM_RETURNING,
  type ClaimedValues,
  type ClaimFilters,
  COUNT_BY_STATUS_SQL,
  claimedTask,
  claimedTaskRow,
  QUEUED_BY_PRIORITY_INDEX,
  QUEUED_BY_RUN_AFTER_INDEX,
} from "./sql/claim.js";
export {
  type ClaimableFilter,
  type ClaimedRows,
  type ClaimLease,
  claimedTasks,
  claimRows,
  completeMany,
  type ExtendResult,
  extendLeases,
  type Failure,
  failLeased,
  hasClaimable,
  type Lease,
  type LeaseClaim,
  leaseLost,
} from "./sql/leases.js";
export { deleteTaskLogsBefore, insertLeasedTaskLog, insertTaskLog, selectRecentTaskLogs, selectTaskLogs } from "./sql/logs.js";
export {
  ARCHIVED_TASK_FIELDS,
  type ArchivedTaskRow,
  archiveTasks,
  countArchived,
  countFinishedBefore,
  countTaskLogsBefore,
  countTasks,
  deleteQueuedTask,
  deleteQueuedTasks,
  deleteStaleWorkers,
  deleteTasks,
  type FinishedStatus,
  maintenanceRuns,
  purgeDeadLetters,
  recordMaintenanceRun,
  restoreArchivedTasks,
  retryDeadLetters,
  selectArchived,
  selectFinishedBefore,
  selectLogsOfTask,
  summarizeDeadLetters,
} from "./sql/maintenance.js";
export {
  countActiveByType,
  countExpiredLeases,
  countFinishedSince,
  countRetriesSince,
  leasedByWorker,
  oldestRunnableSince,
  recentTimings,
} from "./sql/metrics.js";
export { ALL_TYPES, anyPaused, PAUSE_FILTERS, pausedTypes, pauseType, resumeType } from "./sql/pauses.js";
export {
  type Completion,
  cancelQueuedTask,
  claimTasks,
  completeLeasedTasks,
  countTasksByStatus,
  insertTask,
  insertTaskId,
  type LeaseRelease,
  type ListTasksQuery,
  listTasks,
  listUnfinishedTasks,
  NEXT_DUE_TIME_SQL,
  type NewTaskRow,
  newTaskRow,
  nextDueTime,
  RECOVER_EXPIRED_LEASES_SQL,
  type RenewedLease,
  recoverExpiredLeases,
  releaseClaim,
  releaseLeasedTask,
  renewLeases,
  requestCancelLeasedTask,
  retryDeadLetterTask,
  selectTask,
  setTaskProgress,
} from "./sql/tasks.js";
export { deregisterWorker, listWorkers, registerWorker, touchWorker, type WorkerRegistration } from "./sql/workers.js";
export {
  type ConnectionSettings,
  inRolledBackTransaction,
  listTables,
  measureStatementRates,
  probeStatusConstraint,
  readConnectionSettings,
  readJournalMode,
  type StatementRates,
} from "./sqlite-admin/diagnostics.js";
export { type IntegrityCheckOptions, type IntegrityResult, integrityCheck, integrityCheckReport } from "./sqlite-admin/integrity.js";
export { probeWriteIsolation, type WriteIsolationProbe } from "./sqlite-admin/isolation.js";
export { fullTableScans, type HotStatement, hotStatements, type NamedClaimOrder } from "./sqlite-admin/query-plans.js";
export {
  checkpointWal,
  type DatabaseStats,
  DEFAULT_CHECKPOINT_MAX_WAIT_MS,
  databaseStats,
  incrementalVacuum,
  optimize,
  vacuum,
  type WalCheckpointMode,
  type WalCheckpointOptions,
  type WalCheckpointResult,
} from "./sqlite-admin/storage.js";
export { isBusyError, sqliteCode, toQueueError } from "./sqlite-errors.js";
export { CHANGE_CURSOR_START, type ChangePosition, decodeChangeCursor, encodeChangeCursor } from "./store/change-cursor.js";
export {
  type OpenQueueStoreOptions,
  openQueueStore,
  POSTGRES_PACKAGE,
  redactLocation,
  resolveStoreLocation,
  type StoreLocationOptions,
  type StoreSourceOptions,
  serverBackendSearchPaths,
  storeFromOptions,
} from "./store/open-store.js";
export {
  type ClaimProbe,
  type DeadLetterGroupRow,
  EVERY_TYPE,
  type FinishedTaskRecord,
  type ImportedRows,
  type InsertedTasks,
  type MetricsReading,
  type QueueStore,
  type RemoveFinishedBatch,
  type TaskChanges,
  type TaskListQuery,
  type WorkerInfo,
} from "./store/port.js";
export {
  asStore,
  databaseFileSizes,
  insertTaskRows,
  SqliteStore,
  type SqliteStoreOptions,
  STORE_THREAD_OPS,
  taskNotFound,
} from "./store/sqlite-store.js";
export { WORKER_THREAD_OPS } from "./store/sqlite-worker-writes.js";
export { type RenewRequest, renewWorker, runTick, type TickOutcome, type TickRequest, type TickResult } from "./store/worker-tick.js";
export { enqueueSpansActive, startEnqueueSpan, startProcessSpan, type TaskSpan } from "./tracing.js";
export {
  FINAL_TASK_STATUSES,
  type FinalTaskStatus,
  LOG_LEVELS,
  type LogLevel,
  TASK_STATUSES,
  type Task,
  type TaskError,
  type TaskLog,
  type TaskStatus,
  type WorkerRecord,
} from "./types.js";
