import { loadWorkerConfig } from "@queue/scheduling";
import { PermanentError, Worker } from "@queue/worker-engine";

type Tasks = { "send-email": { to: string; subject: string } };

declare function sendMail(message: { to: string; subject: string }, options: { signal: AbortSignal }): Promise<string>;

export const worker = new Worker<Tasks>({
  path: "./data/queue.db",
  config: loadWorkerConfig({ file: "./worker.yaml" }), // optional; QUEUE_WORKER_* variables override it
  concurrency: 10,
  strategy: "priority",
  leaseMs: 30_000,
  backoff: { initialDelayMs: 1_000, factor: 2, maxDelayMs: 600_000, jitter: 0.25 },
  handleSignals: true, // SIGINT/SIGTERM: stop claiming, let running tasks finish, release the rest
  handlers: {
    "send-email": async ({ to, subject }, ctx) => {
      if (!to.includes("@")) throw new PermanentError(`not an address: ${to}`); // no retries
      await ctx.log("info", "sending", { to });
      const id = await sendMail({ to, subject }, { signal: ctx.signal }); // aborts on cancel, timeout, shutdown
      await ctx.progress(1);
      return { id };
    },
  },
});

worker.on("dead-lettered", (task, error) => console.error(`task ${task.id} gave up: ${error.message}`));
await worker.start();
