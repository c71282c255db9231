// The bench's scenarios: in each, variants are timed side by side (interleaved rounds) against a
// reference. The enqueue, enqueue-many and process scenarios also hold peer queues (plainjob,
// liteque, Sidequest, BullMQ, pg-boss, graphile-worker; see peers/index.ts), chosen with
// --peers none|sqlite|all (default all; with --quick only the SQLite peers, at a tenth of their
// sizes, so a smoke run stays short and needs no Redis or PostgreSQL).
import { timeQueueTransactions } from "./core-overhead.js";
import { inMemoryRuns, queuedRuns, queuedRunsInLanes } from "./managers.js";
import type { Target, Variant } from "./measure.js";
import { BULLMQ_PROCESS, PG_BOSS_PROCESS, PLAINJOB_PROCESS, peerVariants } from "./peers/index.js";
import { enqueueAwaited, enqueueConcurrent, enqueueManyBatches, processInProcess, processMultiProcess } from "./queue-ops.js";
import { rawBatchedInserts, rawClaimComplete, rawSingleInserts } from "./raw.js";

export { evaluateTargets, type Target, type TargetResult } from "./measure.js";

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

const ONE_PROCESS_50 = "1 worker process, concurrency 50";

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
      ...peerVariants("enqueue", scale),
    }),
  },
  {
    name: "enqueue-many",
    title: "Enqueue in batches of 1,000",
    unit: "tasks/s",
    reference: RAW_BATCH,
    targets: [{ variant: "enqueueMany(), 1,000 per call", atLeast: 0.7 }],
    variants: (scale) => ({
      [RAW_BATCH]: (path) => rawBatchedInserts(path, 200_000 * scale, 1_000),
      "enqueueMany(), 1,000 per call": (path) => enqueueManyBatches(path, 200_000 * scale, 1_000),
      ...peerVariants("enqueue-many", scale),
    }),
  },
  {
    name: "process",
    title: "End-to-end processing of no-op tasks from a full queue",
    unit: "tasks/s",
    reference: RAW_PROCESS,
    targets: [
      { variant: ONE_PROCESS_50, atLeast: 0.5 },
      { variant: "4 worker processes, concurrency 50 each", atLeast: 0.5 },
      // More processes must not collapse throughput (duplicates are checked by the variant itself).
      { variant: "4 worker processes, concurrency 50 each", atLeast: 1, of: ONE_PROCESS_50 },
      { variant: ONE_PROCESS_50, atLeast: 5, of: PLAINJOB_PROCESS },
      { variant: ONE_PROCESS_50, atLeast: 1, of: BULLMQ_PROCESS },
      { variant: ONE_PROCESS_50, atLeast: 1, of: PG_BOSS_PROCESS },
    ],
    variants: (scale) => ({
      [RAW_PROCESS]: (path) => rawClaimComplete(path, 40_000 * scale, 50),
      "Worker in this process, concurrency 1": (path) => processInProcess(path, 10_000 * scale, 1),
      "Worker in this process, concurrency 50": (path) => processInProcess(path, 40_000 * scale, 50),
      [ONE_PROCESS_50]: (path) => processMultiProcess(path, 40_000 * scale, 1, 50),
      "4 worker processes, concurrency 50 each": (path) => processMultiProcess(path, 40_000 * scale, 4, 50),
      ...peerVariants("process", scale),
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
      "QueuedTaskManager, 1 ms async task, database thread": (path) =>
        queuedRuns(path, 10_000 * scale, "sleep-1ms", { databaseThread: true }),
      "QueuedTaskManager, 1 ms async task, 32 callers each awaiting its run": (path) =>
        queuedRunsInLanes(path, 10_000 * scale, "sleep-1ms"),
      "BackgroundTaskManager, no-op": () => inMemoryRuns(10_000 * scale, "no-op"),
      "QueuedTaskManager, no-op": (path) => queuedRuns(path, 10_000 * scale, "no-op"),
    }),
  },
];
