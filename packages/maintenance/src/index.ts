// SQLite's own upkeep of the file lives in core, beside the store; these are its names here.
export {
  checkpointWal as checkpoint,
  type DatabaseStats,
  DEFAULT_CHECKPOINT_MAX_WAIT_MS,
  databaseStats,
  type IntegrityResult,
  incrementalVacuum,
  integrityCheck,
  optimize,
  vacuum,
  type WalCheckpointMode as CheckpointMode,
  type WalCheckpointOptions as CheckpointOptions,
  type WalCheckpointResult as CheckpointResult,
} from "@queue/core";
export { exportArchive, restoreFromArchive } from "./archive.js";
export {
  type BackupResult,
  type BackupVerification,
  backup,
  backupFileName,
  listBackups,
  pruneBackups,
  restoreBackup,
  verifyBackup,
} from "./backup.js";
export { type DeadLetterGroup, deadLetterSummary, purgeAllDeadLetters, retryAllDeadLetters } from "./dead-letters.js";
export {
  type MigrateBackendOptions,
  type MigrateBackendReport,
  type MigratedCounts,
  migrateBackend,
} from "./migrate-backend.js";
export { DEFAULT_MAINTENANCE_POLICY, type Every, type JobReport, type MaintenancePolicy, runMaintenance } from "./policy.js";
export { cleanupStaleWorkers, type LeaseRecoveryReport, recoverExpiredLeasesNow } from "./recovery.js";
export { cleanup, type RetentionPolicy, type RetentionReport } from "./retention.js";
