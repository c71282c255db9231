export { type RenewRequest, renewWorker, runTick, type TickRequest, type TickResult, WORKER_THREAD_OPS } from "@queue/core";
export { type BackoffPolicy, backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from "./backoff.js";
export { isPermanentError, markPermanent, PermanentError, toTaskError } from "./errors.js";
export type { RecordedOutcome, WorkerEvents } from "./events.js";
export type { TaskContext, TaskHandler, TaskHandlers } from "./handlers.js";
export {
  type ClaimedTask,
  type ClaimOutcome,
  type ClaimRequest,
  claim,
  complete,
  completeMany,
  type ExtendResult,
  extend,
  type Failure,
  fail,
  type Lease,
  leasedTasks,
} from "./leases.js";
export { defaultWorkerId, type ResolvedWorkerOptions, type WorkerOptions } from "./options.js";
export { type StopOptions, Worker, type WorkerStats } from "./worker.js";
