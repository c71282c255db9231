import { insertTask, notifyLocalWorkers, type QueueDatabase, taskFromRow } from "@queue/core";
import type { EnqueueOptions, EnqueueResult } from "./types.js";
import { DEFAULT_ENQUEUE_LIMITS, toNewTaskRow } from "./validate.js";

export interface EnqueueInTransactionLimits {
  readonly maxPayloadBytes?: number;
  readonly defaultMaxAttempts?: number;
}

/**
 * Enqueues synchronously, inside whatever transaction the connection has open, so that the task
 * and the application's own writes on the same SQLite file commit (or roll back) together:
 *
 *   const db = openQueueDatabase({ connection: appConnection });
 *   appConnection.transaction(() => {
 *     insertOrder.run(order);
 *     enqueueInTransaction(db, "send-receipt", { orderId: order.id });
 *   })();
 *
 * Outside a transaction it runs in its own.
 */
export function enqueueInTransaction<Payload>(
  db: QueueDatabase,
  type: string,
  payload: Payload,
  options?: EnqueueOptions,
  limits: EnqueueInTransactionLimits = {},
): EnqueueResult<Payload> {
  const now = db.clock.now();
  const row = toNewTaskRow(type, payload, options, { ...DEFAULT_ENQUEUE_LIMITS, ...limits }, now);
  const result = db.transactionSync((tx) => insertTask(tx, row, now));
  notifyLocalWorkers(db.path);
  return { task: taskFromRow<Payload>(result.row), created: result.created };
}
