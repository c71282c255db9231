export { BackgroundTaskManager } from "./background-task-manager.js";
export {
  type CreateTaskManagerOptions,
  createTaskManager,
  resolveTaskExecutionConfig,
  type TaskExecutionConfig,
  type TaskManagerEvents,
  taskManagerEvents,
} from "./create-task-manager.js";
export {
  IntakeGate,
  type IntakeState,
  PAUSED_INTAKE_MODES,
  type PausedIntakeMode,
  type PauseIntakeOptions,
} from "./intake.js";
export {
  type ExportQueueStateOptions,
  exportQueueState,
  type InitializeQueueOptions,
  type InitializeQueueResult,
  initializeQueue,
  type MigrationReport,
  migrateInflightRuns,
  type QueuedRunRecord,
  type QueueTarget,
} from "./migration.js";
export { type ExecutionPattern, type OrchestrationRequest, type OrchestrationResult, TaskOrchestrator } from "./orchestrator.js";
export {
  DATABASE_THREAD_STOPPED,
  type EmbeddedWorkerTuning,
  QueuedTaskManager,
  type QueuedTaskManagerOptions,
  RUN_TASK_TYPE_PREFIX,
  runHandlers,
  runTaskType,
} from "./queued-task-manager.js";
export { type RollbackReport, rollbackToInMemory, validateMigration } from "./rollback.js";
export { FINAL_RUN_STATUSES, isFinal, isoTime, type Run, type RunRequest, type RunStatus, runStatusOf } from "./run.js";
export { RUN_HISTORY_NOT_SAVED, RunRegistry, type RunRegistryEvents, type RunRegistryOptions } from "./run-registry.js";
export type { ModuleHandler, RunContext, RunProgress, TaskManager } from "./task-manager.js";
