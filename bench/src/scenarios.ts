import { timeQueueTransactions } from "./core-overhead.js";
import { inMemoryRuns, queuedRuns } from "./managers.js";
import type { Variant } from "./measure.js";
import { enqueueAwaited, enqueueConcurrent, enqueueManyBatches, processInProcess, processMultiProcess } from "./queue-ops.js";
import { rawBatchedInserts, rawClaimComplete, rawSingleInserts } from "./raw.js";

/** A target from the project's goals: `variant` should reach `atLeast` times the reference. */
export interface Target {
  readonly variant: string;
  readonly atLeast: number;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly unit: string;
  readonly reference: string;
  readonly targets: readonly Target[];
  readonly variants: (scale: number) => Record<string, Variant>;
}

const RAW_SINGLE = "raw: one INSERT per transaction";
const RAW_BATCH = "raw: 1,000 INSERTs per transaction";
const RAW_PROCESS = "raw: claim 50 + complete 50, two transactions";

const IN_MEMORY_1MS = "BackgroundTaskManager, 1 ms async task";

export const SCENARIOS: readonly Scenario[] = [
  {
    name: "core-overhead",
    title: "QueueDatabase transactions vs bare better-sqlite3 (one-row insert)",
    unit: "tx/s",
    reference: RAW_SINGLE,
    targets: [],
    variants: (scale) => ({
      [RAW_SINGLE]: (path) => rawSingleInserts(path, 20_000 * scale),
      "db.transaction()": (path) => timeQueueTransactions(path, 20_000 * scale, "async"),
      "db.transactionSync()": (path) => timeQueueTransactions(path, 20_000 * scale, "sync"),
    }),
  },
  {
    name: "enqueue",
    title: "Enqueue, one task per call",
    unit: "tasks/s",
    reference: RAW_SINGLE,
    targets: [
      { variant: "enqueue(), awaited one by one", atLeast: 0.8 },
      { variant: "enqueue(), 1,000 in flight (group commit)", atLeast: 5 },
    ],
    variants: (scale) => ({
      [RAW_SINGLE]: (path) => rawSingleInserts(path, 20_000 * scale),
      "enqueue(), awaited one by one": (path) => enqueueAwaited(path, 20_000 * scale),
      "enqueue(), 1,000 in flight (group commit)": (path) => enqueueConcurrent(path, 100_000 * scale, 1_000),
    }),
  },
  {
    name: "enqueue-many",
    title: "Enqueue in batches of 1,000",
    unit: "tasks/s",
    reference: RAW_BATCH,
    targets: [],
    variants: (scale) => ({
      [RAW_BATCH]: (path) => rawBatchedInserts(path, 200_000 * scale, 1_000),
      "enqueueMany(), 1,000 per call": (path) => enqueueManyBatches(path, 200_000 * scale, 1_000),
    }),
  },
  {
    name: "process",
    title: "End-to-end processing of no-op tasks from a full queue",
    unit: "tasks/s",
    reference: RAW_PROCESS,
    targets: [
      { variant: "1 worker process, concurrency 50", atLeast: 0.5 },
      { variant: "4 worker processes, concurrency 50 each", atLeast: 0.5 },
    ],
    variants: (scale) => ({
      [RAW_PROCESS]: (path) => rawClaimComplete(path, 40_000 * scale, 50),
      "Worker in this process, concurrency 1": (path) => processInProcess(path, 10_000 * scale, 1),
      "Worker in this process, concurrency 50": (path) => processInProcess(path, 40_000 * scale, 50),
      "1 worker process, concurrency 50": (path) => processMultiProcess(path, 40_000 * scale, 1, 50),
      "4 worker processes, concurrency 50 each": (path) => processMultiProcess(path, 40_000 * scale, 4, 50),
    }),
  },
  {
    name: "managers",
    title: "Task managers on the same workload (concurrency 32)",
    unit: "runs/s",
    reference: IN_MEMORY_1MS,
    targets: [{ variant: "QueuedTaskManager, 1 ms async task", atLeast: 0.8 }],
    variants: (scale) => ({
      [IN_MEMORY_1MS]: () => inMemoryRuns(10_000 * scale, "sleep-1ms"),
      "QueuedTaskManager, 1 ms async task": (path) => queuedRuns(path, 10_000 * scale, "sleep-1ms"),
      "BackgroundTaskManager, no-op": () => inMemoryRuns(10_000 * scale, "no-op"),
      "QueuedTaskManager, no-op": (path) => queuedRuns(path, 10_000 * scale, "no-op"),
    }),
  },
];
