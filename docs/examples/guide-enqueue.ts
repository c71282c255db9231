import type { QueueClient } from "@queue/client";
import { isQueueError } from "@queue/core";

type Tasks = {
  "charge-order": { orderId: string; amountCents: number };
  "import-row": { sheetId: string; row: number };
};

/** In a request handler: one task per order, however often the client retries the request. */
export async function placeOrder(client: QueueClient<Tasks>, orderId: string, amountCents: number) {
  try {
    const { task, created } = await client.enqueue(
      "charge-order",
      { orderId, amountCents }, // a reference and a number, not the whole order
      { idempotencyKey: `charge-${orderId}`, maxAttempts: 5, timeoutMs: 30_000 },
    );
    return { status: created ? 202 : 200, taskId: task.id };
  } catch (error) {
    // Detect errors by code: a process may hold two copies of the package, and instanceof would miss one.
    if (isQueueError(error, "INVALID_PAYLOAD", "INVALID_ARGUMENT")) return { status: 400, error: error.message };
    if (isQueueError(error, "BUSY", "PAUSED")) return { status: 503, error: error.message };
    throw error;
  }
}

/** A bulk import: one transaction for all rows, and a bad row reported in its place instead of failing the lot. */
export async function importSheet(client: QueueClient<Tasks>, sheetId: string, rows: number): Promise<unknown[]> {
  const items = Array.from({ length: rows }, (_, row) => ({ type: "import-row" as const, payload: { sheetId, row } }));
  const results = await client.enqueueEach(items); // enqueueMany: all or nothing instead
  return results.flatMap((result) => (result.ok ? [] : [result.error]));
}

/** Fan-out from a loop: calls made in the same turn of the event loop share one transaction. */
export async function notifyAll(client: QueueClient<Tasks>, orderIds: readonly string[]): Promise<number[]> {
  const results = await Promise.all(orderIds.map((orderId) => client.enqueue("charge-order", { orderId, amountCents: 0 })));
  return results.map((result) => result.task.id);
}

/** Waiting for an outcome: one call that sleeps between checks, bounded and cancellable. */
export async function receiptOf(client: QueueClient<Tasks>, taskId: number, signal: AbortSignal): Promise<string | undefined> {
  const task = await client.waitFor<Tasks["charge-order"], { receipt: string }>(taskId, { timeoutMs: 60_000, signal });
  return task.status === "completed" ? task.result?.receipt : undefined;
}
