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
import { NotRun, type Variant } from "../measure.js";
import { asPeer } from "./as-peer.js";
import { type PeerSelection, peersFromArgv } from "./options.js";

// Each peer's module (and its dependencies) loads when one of its variants first runs, so that
// building the scenarios, or a variant's process, loads only what it uses.
const plainjob = () => import("./plainjob.js");
const liteque = () => import("./liteque.js");
const sidequest = () => import("./sidequest.js");
const bullmq = () => import("./bullmq.js");
const pgBoss = () => import("./pg-boss.js");
const graphileWorker = () => import("./graphile-worker.js");

/** The scenarios peers join (names as in scenarios.ts). */
export type PeerScenario = "enqueue" | "enqueue-many" | "process";

type Backend = "sqlite" | "server";

/** Peer variant names that targets refer to. */
export const PLAINJOB_PROCESS = "plainjob: 1 worker (one job at a time)";
export const BULLMQ_PROCESS = "BullMQ: Worker, concurrency 50";
export const PG_BOSS_PROCESS = "pg-boss: work(), 50 per 0.5 s poll";
export const GRAPHILE_PROCESS = "graphile-worker: concurrency 50";
export const PG_BOSS_ENQUEUE_MANY = "pg-boss: insert(), 1,000 per call";
export const GRAPHILE_ENQUEUE_MANY = "graphile-worker: addJobs(), 1,000 per call";

const QUICK_FLOOR = 100;
const IN_FLIGHT = 1_000;
const BATCH = 1_000;
const CONCURRENCY = 50;

type Variants = Record<string, Variant>;
type Size = (tasks: number) => number;

interface Peer {
  readonly backend: Backend;
  readonly enqueue: (size: Size) => Variants;
  readonly "enqueue-many": (size: Size) => Variants;
  readonly process: (size: Size) => Variants;
}

const sidequestVariants = (): Variants => ({ "Sidequest, SQLite backend": async () => (await sidequest()).sidequestVariant() });

const PEERS: readonly Peer[] = [
  {
    backend: "sqlite",
    enqueue: (size) => ({
      "plainjob: add(), one by one (synchronous)": async (path) => (await plainjob()).enqueueAwaited(path, size(5_000)),
      "plainjob: add(), 1,000 in flight (synchronous, so one by one)": async (path) =>
        (await plainjob()).enqueueConcurrent(path, size(5_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({
      "plainjob: addMany(), 1,000 per call": async (path) => (await plainjob()).enqueueBatches(path, size(20_000), BATCH),
    }),
    process: (size) => ({ [PLAINJOB_PROCESS]: async (path) => (await plainjob()).processQueue(path, size(5_000)) }),
  },
  {
    backend: "sqlite",
    enqueue: (size) => ({
      "liteque: enqueue(), awaited one by one": async (path) => (await liteque()).enqueueAwaited(path, size(1_000)),
      "liteque: enqueue(), 1,000 in flight": async (path) => (await liteque()).enqueueConcurrent(path, size(2_000), IN_FLIGHT),
    }),
    "enqueue-many": () => ({ "liteque: batches": async () => (await liteque()).enqueueBatches() }),
    process: (size) => ({
      "liteque: Runner, concurrency 50": async (path) => (await liteque()).processQueue(path, size(1_000), CONCURRENCY),
      "liteque: Runner, concurrency 1": async (path) => (await liteque()).processQueue(path, size(500), 1),
    }),
  },
  { backend: "sqlite", enqueue: sidequestVariants, "enqueue-many": sidequestVariants, process: sidequestVariants },
  {
    backend: "server",
    enqueue: (size) => ({
      "BullMQ: add(), awaited one by one": async () => (await bullmq()).enqueueAwaited(size(1_000)),
      "BullMQ: add(), 1,000 in flight": async () => (await bullmq()).enqueueConcurrent(size(5_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({ "BullMQ: addBulk(), 1,000 per call": async () => (await bullmq()).enqueueBatches(size(10_000), BATCH) }),
    process: (size) => ({
      [BULLMQ_PROCESS]: async () => (await bullmq()).processQueue(size(5_000), CONCURRENCY),
      "BullMQ: Worker, concurrency 1": async () => (await bullmq()).processQueue(size(1_000), 1),
    }),
  },
  {
    backend: "server",
    enqueue: (size) => ({
      "pg-boss: send(), awaited one by one": async () => (await pgBoss()).enqueueAwaited(size(500)),
      "pg-boss: send(), 1,000 in flight": async () => (await pgBoss()).enqueueConcurrent(size(1_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({ [PG_BOSS_ENQUEUE_MANY]: async () => (await pgBoss()).enqueueBatches(size(10_000), BATCH) }),
    process: (size) => ({
      [PG_BOSS_PROCESS]: async () => (await pgBoss()).processQueue(size(300), CONCURRENCY),
      "pg-boss: work(), 1 per 0.5 s poll": () => {
        throw new NotRun("skipped: one job per polling interval is at most 2 tasks/s (0.5 s is the shortest interval)");
      },
    }),
  },
  {
    backend: "server",
    enqueue: (size) => ({
      "graphile-worker: addJob(), awaited one by one": async () => (await graphileWorker()).enqueueAwaited(size(500)),
      "graphile-worker: addJob(), 1,000 in flight": async () => (await graphileWorker()).enqueueConcurrent(size(1_000), IN_FLIGHT),
    }),
    "enqueue-many": (size) => ({
      [GRAPHILE_ENQUEUE_MANY]: async () => (await graphileWorker()).enqueueBatches(size(10_000), BATCH),
    }),
    process: (size) => ({
      [GRAPHILE_PROCESS]: async () => (await graphileWorker()).processQueue(size(2_000), CONCURRENCY),
      "graphile-worker: concurrency 1": async () => (await graphileWorker()).processQueue(size(300), 1),
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
