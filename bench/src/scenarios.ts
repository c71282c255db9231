// The bench's scenarios: in each, variants are timed side by side (interleaved rounds) against a
// reference. The enqueue, enqueue-many and process scenarios also hold peer queues (plainjob,
// liteque, Sidequest, BullMQ, pg-boss, graphile-worker; see peers/index.ts), chosen with
// --peers none|sqlite|all (default all; with --quick only the SQLite peers, at a tenth of their
// sizes, so a smoke run stays short and needs no Redis or PostgreSQL), and the same operations on
// our own PostgreSQL backend (postgres-ops.ts), whatever --peers says: on the PostgreSQL peers'
// server when it answers, "not run" otherwise. Each of those is paired with its SQLite twin
// (`backends`), for the ratio of the one to the other.
import { timeQueueTransactions } from "./core-overhead.js";
import { inMemoryRuns, queuedRuns, queuedRunsInLanes } from "./managers.js";
import { type BackendPair, onPostgres, type Target, twins, type Variant } from "./measure.js";
import {
  BULLMQ_PROCESS,
  GRAPHILE_ENQUEUE_MANY,
  GRAPHILE_PROCESS,
  PG_BOSS_ENQUEUE_MANY,
  PG_BOSS_PROCESS,
  PLAINJOB_PROCESS,
  peerVariants,
} from "./peers/index.js";
import { enqueueAwaited, enqueueConcurrent, enqueueManyBatches, processInProcess, processMultiProcess } from "./queue-ops.js";
import { rawBatchedInserts, rawClaimComplete, rawSingleInserts } from "./raw.js";

export { type BackendPair, evaluateTargets, onPostgres, type Target, type TargetResult } from "./measure.js";

export interface Scenario {
  readonly name: string;
  readonly title: string;
  readonly unit: string;
  readonly reference: string;
  readonly targets: readonly Target[];
  /** Variants of our SQLite backend and their twins on our PostgreSQL backend. */
  readonly backends?: readonly BackendPair[];
  readonly variants: (scale: number) => Record<string, Variant>;
}

const RAW_SINGLE = "raw: one INSERT per transaction";
const RAW_BATCH = "raw: 1,000 INSERTs per transaction";
const RAW_PROCESS = "raw: claim 50 + complete 50, two transactions";

const AWAITED = "enqueue(), awaited one by one";
const IN_FLIGHT = "enqueue(), 1,000 in flight (group commit)";
const ENQUEUE_MANY = "enqueueMany(), 1,000 per call";
const ONE_PROCESS_50 = "1 worker process, concurrency 50";
const FOUR_PROCESSES_50 = "4 worker processes, concurrency 50 each";

// Loaded when a PostgreSQL variant first runs, so that no other variant's process (and peak RSS) holds the pg driver.
const postgres = () => import("./postgres-ops.js");

/** Task counts of the PostgreSQL variants, times the bench's scale, at least 100 (with --quick). */
const pgSize = (tasks: number, scale: number) => Math.max(100, Math.round(tasks * scale));

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
      { variant: AWAITED, atLeast: 0.8 },
      { variant: IN_FLIGHT, atLeast: 5 },
    ],
    backends: twins(AWAITED, IN_FLIGHT),
    variants: (scale) => ({
      [RAW_SINGLE]: (path) => rawSingleInserts(path, 20_000 * scale),
      [AWAITED]: (path) => enqueueAwaited(path, 20_000 * scale),
      [IN_FLIGHT]: (path) => enqueueConcurrent(path, 100_000 * scale, 1_000),
      [onPostgres(AWAITED)]: async () => (await postgres()).enqueueAwaited(pgSize(1_000, scale)),
      [onPostgres(IN_FLIGHT)]: async () => (await postgres()).enqueueConcurrent(pgSize(20_000, scale), 1_000),
      ...peerVariants("enqueue", scale),
    }),
  },
  {
    name: "enqueue-many",
    title: "Enqueue in batches of 1,000",
    unit: "tasks/s",
    reference: RAW_BATCH,
    targets: [
      { variant: ENQUEUE_MANY, atLeast: 0.7 },
      // Issue 21: batch enqueue on PostgreSQL at least as fast as the best PostgreSQL peer's.
      { variant: onPostgres(ENQUEUE_MANY), atLeast: 1, ofBest: [PG_BOSS_ENQUEUE_MANY, GRAPHILE_ENQUEUE_MANY] },
    ],
    backends: twins(ENQUEUE_MANY),
    variants: (scale) => ({
      [RAW_BATCH]: (path) => rawBatchedInserts(path, 200_000 * scale, 1_000),
      [ENQUEUE_MANY]: (path) => enqueueManyBatches(path, 200_000 * scale, 1_000),
      [onPostgres(ENQUEUE_MANY)]: async () => (await postgres()).enqueueManyBatches(pgSize(50_000, scale), 1_000),
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
      { variant: FOUR_PROCESSES_50, atLeast: 0.5 },
      // More processes must not collapse throughput (duplicates are checked by the variant itself).
      { variant: FOUR_PROCESSES_50, atLeast: 1, of: ONE_PROCESS_50 },
      { variant: ONE_PROCESS_50, atLeast: 5, of: PLAINJOB_PROCESS },
      { variant: ONE_PROCESS_50, atLeast: 1, of: BULLMQ_PROCESS },
      { variant: ONE_PROCESS_50, atLeast: 1, of: PG_BOSS_PROCESS },
      // Issue 21: processing on PostgreSQL at least 3x the best PostgreSQL peer's (each peer works
      // in one process at concurrency 50, as this variant does).
      { variant: onPostgres(ONE_PROCESS_50), atLeast: 3, ofBest: [PG_BOSS_PROCESS, GRAPHILE_PROCESS] },
    ],
    backends: twins(ONE_PROCESS_50, FOUR_PROCESSES_50),
    variants: (scale) => ({
      [RAW_PROCESS]: (path) => rawClaimComplete(path, 40_000 * scale, 50),
      "Worker in this process, concurrency 1": (path) => processInProcess(path, 10_000 * scale, 1),
      "Worker in this process, concurrency 50": (path) => processInProcess(path, 40_000 * scale, 50),
      [ONE_PROCESS_50]: (path) => processMultiProcess(path, 40_000 * scale, 1, 50),
      [FOUR_PROCESSES_50]: (path) => processMultiProcess(path, 40_000 * scale, 4, 50),
      [onPostgres(ONE_PROCESS_50)]: async () => (await postgres()).processMultiProcess(pgSize(20_000, scale), 1, 50),
      [onPostgres(FOUR_PROCESSES_50)]: async () => (await postgres()).processMultiProcess(pgSize(20_000, scale), 4, 50),
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
