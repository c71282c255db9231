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
export { DEFAULT_MAINTENANCE_POLICY, type Every, type JobReport, type MaintenancePolicy, runMaintenance } from "./policy.js";
export { cleanupStaleWorkers, type LeaseRecoveryReport, recoverExpiredLeasesNow } from "./recovery.js";
export { cleanup, type RetentionPolicy, type RetentionReport } from "./retention.js";
export {
  type CheckpointMode,
  type CheckpointOptions,
  type CheckpointResult,
  checkpoint,
  type DatabaseStats,
  DEFAULT_CHECKPOINT_MAX_WAIT_MS,
  databaseStats,
  type IntegrityResult,
  incrementalVacuum,
  integrityCheck,
  optimize,
  vacuum,
} from "./storage.js";
