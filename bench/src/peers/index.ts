// Peer queues as variants of the bench's scenarios: each driven through its public API, in the same
// run, on the same machine and file system, reporting tasks/s like the queue's own variants.
//
// Sizes: each peer has its own task count per scenario (slow peers fewer tasks; tasks/s stays
// comparable), times the bench's scale. With --quick (scale 0.1) that is a tenth, at least
// QUICK_FLOOR tasks, and by default only the SQLite peers run (see options.ts): a smoke run then
// adds a few seconds and needs no Redis or PostgreSQL.
//
// A peer that cannot run (service not reachable, package not installable, an error) shows as
// "not run: reason": any error a peer throws is recorded that way instead of ending the bench.
import { isNotRun, NotRun, type Variant } from "../measure.js";
import * as bullmq from "./bullmq.js";
import * as graphileWorker from "./graphile-worker.js";
import * as liteque from "./liteque.js";
import { type PeerSelection, peersFromArgv } from "./options.js";
import * as pgBoss from "./pg-boss.js";
import * as plainjob from "./plainjob.js";
import { sidequestVariant } from "./sidequest.js";

/** The scenarios peers join (names as in scenarios.ts). */
export type PeerScenario = "enqueue" | "enqueue-many" | "process";

type Backend = "sqlite" | "server";

/** Peer variant names that targets refer to. */
export const PLAINJOB_PROCESS = "plainjob: 1 worker (one job at a time)";
export const BULLMQ_PROCESS = "BullMQ: Worker, concurrency 50";
export const PG_BOSS_PROCESS = "pg-boss: work(), 50 per 0.5 s poll";

const QUICK_FLOOR = 100;
const IN_FLIGHT = 1_000;
const BATCH = 1_000;
const CONCURRENCY = 50;

/** Turns any failure of a peer into NotRun, so that it is reported instead of ending the bench. */
export function asPeer(run: Variant): Variant {
  return async (path) => {
    try {
      return await run(path);
    } catch (error) {
      if (isNotRun(error)) throw error;
      throw new NotRun(`failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
}

type Variants = Record<string, Variant>;
type Size = (tasks: number) => number;

interface Peer {
  readonly backend: Backend;
  readonly enqueue: (size: Size) => Variants;
  readonly "enqueue-many": (size: Size) => Variants;
  readonly process: (size: Size) => Variants;
}

const sidequest = (): Variants => ({ "Sidequest, SQLite backend": () => sidequestVariant() });

const PEERS: readonly Peer[] = [
  {
    backend: "sqlite",
    enqueue: (size) => ({
      "plainjob: add(), one by one (synchronous)": (path) => plainjob.enqueueAwaited(path, size(5_000)),
      "plainjob: add(), 1,000 in flight (synchronous, so one by one)": (path) => plainjob.enqueueConcurrent(path, size(5_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({ "plainjob: addMany(), 1,000 per call": (path) => plainjob.enqueueBatches(path, size(20_000), BATCH) }),
    process: (size) => ({ [PLAINJOB_PROCESS]: (path) => plainjob.processQueue(path, size(5_000)) }),
  },
  {
    backend: "sqlite",
    enqueue: (size) => ({
      "liteque: enqueue(), awaited one by one": (path) => liteque.enqueueAwaited(path, size(1_000)),
      "liteque: enqueue(), 1,000 in flight": (path) => liteque.enqueueConcurrent(path, size(2_000), IN_FLIGHT),
    }),
    "enqueue-many": () => ({ "liteque: batches": () => liteque.enqueueBatches() }),
    process: (size) => ({
      "liteque: Runner, concurrency 50": (path) => liteque.processQueue(path, size(2_000), CONCURRENCY),
      "liteque: Runner, concurrency 1": (path) => liteque.processQueue(path, size(500), 1),
    }),
  },
  { backend: "sqlite", enqueue: sidequest, "enqueue-many": sidequest, process: sidequest },
  {
    backend: "server",
    enqueue: (size) => ({
      "BullMQ: add(), awaited one by one": () => bullmq.enqueueAwaited(size(1_000)),
      "BullMQ: add(), 1,000 in flight": () => bullmq.enqueueConcurrent(size(5_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({ "BullMQ: addBulk(), 1,000 per call": () => bullmq.enqueueBatches(size(20_000), BATCH) }),
    process: (size) => ({
      [BULLMQ_PROCESS]: () => bullmq.processQueue(size(5_000), CONCURRENCY),
      "BullMQ: Worker, concurrency 1": () => bullmq.processQueue(size(1_000), 1),
    }),
  },
  {
    backend: "server",
    enqueue: (size) => ({
      "pg-boss: send(), awaited one by one": () => pgBoss.enqueueAwaited(size(1_000)),
      "pg-boss: send(), 1,000 in flight": () => pgBoss.enqueueConcurrent(size(2_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({ "pg-boss: insert(), 1,000 per call": () => pgBoss.enqueueBatches(size(20_000), BATCH) }),
    process: (size) => ({
      [PG_BOSS_PROCESS]: () => pgBoss.processQueue(size(500), CONCURRENCY),
      "pg-boss: work(), 1 per 0.5 s poll": () => {
        throw new NotRun("skipped: one job per polling interval is at most 2 tasks/s (0.5 s is the shortest interval)");
      },
    }),
  },
  {
    backend: "server",
    enqueue: (size) => ({
      "graphile-worker: addJob(), awaited one by one": () => graphileWorker.enqueueAwaited(size(1_000)),
      "graphile-worker: addJob(), 1,000 in flight": () => graphileWorker.enqueueConcurrent(size(2_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({ "graphile-worker: addJobs(), 1,000 per call": () => graphileWorker.enqueueBatches(size(20_000), BATCH) }),
    process: (size) => ({
      "graphile-worker: concurrency 50": () => graphileWorker.processQueue(size(3_000), CONCURRENCY),
      "graphile-worker: concurrency 1": () => graphileWorker.processQueue(size(500), 1),
    }),
  },
];

/**
 * The peer variants for `scenario` at `scale` (1, or 0.1 with --quick), as chosen by `--peers`:
 * none, the SQLite peers only, or all.
 */
export function peerVariants(scenario: PeerScenario, scale: number, selection: PeerSelection = peersFromArgv()): Variants {
  if (selection === "none") return {};
  const size = (tasks: number) => (scale >= 1 ? tasks : Math.max(QUICK_FLOOR, Math.round(tasks * scale)));
  const variants: Variants = {};
  for (const peer of PEERS) {
    if (selection === "sqlite" && peer.backend !== "sqlite") continue;
    for (const [name, run] of Object.entries(peer[scenario](size))) variants[name] = asPeer(run);
  }
  return variants;
}
