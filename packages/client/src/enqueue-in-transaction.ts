import { insertTask, notifyLocalWorkers, type QueueDatabase, startEnqueueSpan, taskFromRow } from "@queue/core";
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
  const span = startEnqueueSpan(row.type);
  try {
    const result = db.transactionSync((tx) => insertTask(tx, span === undefined ? row : { ...row, traceParent: span.traceParent }, now));
    notifyLocalWorkers(db.path);
    span?.end(undefined, { "messaging.message.id": String(result.row.id) });
    return { task: taskFromRow<Payload>(result.row), created: result.created };
  } catch (error) {
    span?.end(error);
    throw error;
  }
}
