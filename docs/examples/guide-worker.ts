import { PermanentError, Worker } from "@queue/worker-engine";

type Tasks = {
  "charge-order": { orderId: string; amountCents: number };
  "rebuild-search-index": { shards: number };
};

declare const payments: {
  charge(
    request: { amountCents: number; idempotencyKey: string },
    options: { signal: AbortSignal },
  ): Promise<{ receipt?: string; declined?: boolean }>;
};
declare function rebuildShard(shard: number, options: { signal: AbortSignal }): Promise<void>;

export const worker = new Worker<Tasks>({
  path: "./data/queue.db",
  concurrency: 20, // handlers that wait on I/O: raise concurrency before adding processes
  leaseMs: 60_000, // renewed every heartbeatMs while the handler runs; expires only if this process stalls or dies
  handleSignals: true,
  shutdownTimeoutMs: 25_000, // below the service manager's stop timeout
  handlers: {
    "charge-order": async ({ orderId, amountCents }, ctx) => {
      // At least once: a retry after a crash sends the same key, and the provider drops the repeat.
      const answer = await payments.charge({ amountCents, idempotencyKey: `order-${orderId}` }, { signal: ctx.signal });
      if (answer.declined) throw new PermanentError(`card declined for order ${orderId}`); // no retries
      return { receipt: answer.receipt };
    },
    "rebuild-search-index": async ({ shards }, ctx) => {
      for (let shard = 0; shard < shards; shard++) {
        ctx.signal.throwIfAborted(); // cancelled, timed out, lease lost or shutting down: stop here
        await rebuildShard(shard, { signal: ctx.signal });
        await ctx.progress((shard + 1) / shards);
      }
    },
  },
});

worker.on("failed", (task, error, retryAt) =>
  console.warn(`task ${task.id} failed: ${error.message}; next try ${retryAt?.toISOString() ?? "none"}`),
);
worker.on("dead-lettered", (task, error) => console.error(`task ${task.id} gave up: ${error.message}`));
worker.on("lease-lost", (task) => console.warn(`task ${task.id}: lease lost, this worker's answer was discarded`));
await worker.start();
