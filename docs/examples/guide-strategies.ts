import { loadWorkerConfig } from "@queue/scheduling";
import { type TaskHandler, Worker } from "@queue/worker-engine";

type Tasks = {
  "send-email": { to: string };
  "render-video": { videoId: string };
  "apply-ledger-entry": { accountId: string; entryId: string };
};

declare const sendEmail: TaskHandler<Tasks["send-email"]>;
declare const renderVideo: TaskHandler<Tasks["render-video"]>;
declare const applyLedgerEntry: TaskHandler<Tasks["apply-ledger-entry"]>;
const path = "./data/queue.db";

// User-facing work: `priority` (the default). Enqueue urgent tasks with a lower number, e.g. { priority: 0 }.
export const interactive = new Worker<Tasks>({ path, strategy: "priority", concurrency: 20, handlers: { "send-email": sendEmail } });

// Bulk work where a steady stream of urgent tasks must not starve the rest: a draw weighted toward urgency.
export const bulk = new Worker<Tasks>({
  path,
  strategy: "weighted_random",
  concurrency: 2,
  capabilities: ["gpu"], // claims tasks enqueued with { requires: ["gpu"] }; workers without it leave them
  handlers: { "render-video": renderVideo },
});

// Arrival order: `fifo`, one task at a time and none claimed ahead, so first attempts start in the order enqueued.
export const ordered = new Worker<Tasks>({
  path,
  strategy: "fifo",
  concurrency: 1,
  prefetch: 0,
  handlers: { "apply-ledger-entry": applyLedgerEntry },
});

// Or let operators choose without a deploy: a JSON, YAML or TOML file, and QUEUE_WORKER_STRATEGY over it.
export const configured = new Worker<Tasks>({
  path,
  config: loadWorkerConfig({ file: "./worker.yaml" }),
  handlers: { "send-email": sendEmail },
});
