import { enqueueInTransaction, type QueueClient } from "@queue/client";
import type { QueueDatabase } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import type Database from "better-sqlite3";

type Tasks = {
  "resize-image": { imageKey: string; width: number };
  "send-receipt": { orderId: number };
};

declare function fetchExchangeRate(options: { signal?: AbortSignal }): Promise<number>;
declare const blobs: {
  put(data: Uint8Array): Promise<string>;
  get(key: string, options: { signal: AbortSignal }): Promise<Uint8Array>;
};
declare function resizeImage(image: Uint8Array, width: number): Uint8Array;
declare function mailReceipt(orderId: number, options: { signal: AbortSignal; idempotencyKey: string }): Promise<void>;

// Awaiting inside a transaction: do the asynchronous work first, then one short synchronous transaction.
export async function confirmOrder(app: Database.Database, queue: QueueDatabase, orderId: number): Promise<void> {
  const rate = await fetchExchangeRate({}); // outside: no lock is held while this waits
  app.transaction(() => {
    app.prepare("UPDATE orders SET rate = ?, confirmed = 1 WHERE id = ?").run(rate, orderId);
    enqueueInTransaction(queue, "send-receipt", { orderId }); // commits or rolls back with the update
  })();
}

// Huge payloads: keep the bytes elsewhere and enqueue a reference to them.
export async function enqueueResize(client: QueueClient<Tasks>, image: Uint8Array) {
  const imageKey = await blobs.put(image);
  return client.enqueue("resize-image", { imageKey, width: 640 });
}

// One worker for every task type, with one concurrency budget, rather than a process per type.
export const worker = new Worker<Tasks>({
  path: "./data/queue.db",
  concurrency: 16,
  handlers: {
    "resize-image": async ({ imageKey, width }, ctx) => {
      const image = await blobs.get(imageKey, { signal: ctx.signal }); // the signal reaches the I/O
      ctx.signal.throwIfAborted(); // and CPU work checks it between steps
      return { key: await blobs.put(resizeImage(image, width)) };
    },
    // Exactly-once side effects do not exist: this may run twice, so the receiver deduplicates by key.
    "send-receipt": async ({ orderId }, ctx) => mailReceipt(orderId, { signal: ctx.signal, idempotencyKey: `receipt-${orderId}` }),
  },
});

// Polling get() in a loop: waitFor() does the waiting, backs off, and gives up when told to.
export async function resizedKey(client: QueueClient<Tasks>, taskId: number): Promise<string | undefined> {
  const task = await client.waitFor<Tasks["resize-image"], { key: string }>(taskId, { timeoutMs: 30_000 });
  return task.result?.key;
}
