import { FINAL_TASK_STATUSES, QueueError, type QueueStore, type TaskRow, taskNotFound } from "@queue/core";
import type { WaitOptions } from "./types.js";

const FIRST_POLL_MS = 5;

/**
 * Polls the task through the store (by primary key: a few microseconds a check on SQLite), starting fast and backing off to
 * `maxPollIntervalMs`, until it reaches a final status, the timeout passes, or the signal aborts.
 */
export function waitForFinalTask(store: QueueStore, id: number, options: WaitOptions): Promise<TaskRow> {
  const maxInterval = options.maxPollIntervalMs ?? 250;
  return new Promise<TaskRow>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let interval = FIRST_POLL_MS;
    let done = false;
    const finish = (settle: () => void) => {
      done = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      options.signal?.removeEventListener("abort", onAbort);
      settle();
    };
    const onAbort = () =>
      finish(() =>
        reject(new QueueError("ABORTED", `Stopped waiting for task ${id}: the signal was aborted.`, { cause: options.signal?.reason })),
      );
    const check = () => store.getTask(id).then(decide, (error: unknown) => finish(() => reject(error)));
    const decide = (row: TaskRow | undefined) => {
      if (done) return;
      if (row === undefined) {
        finish(() => reject(taskNotFound(id)));
        return;
      }
      if ((FINAL_TASK_STATUSES as readonly string[]).includes(row.status)) {
        const final = row;
        finish(() => resolve(final));
        return;
      }
      timer = setTimeout(() => void check(), interval);
      interval = Math.min(maxInterval, interval * 2);
    };
    if (options.signal?.aborted) {
      onAbort();
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      deadline = setTimeout(
        () =>
          finish(() => reject(new QueueError("TIMEOUT", `Task ${id} did not finish within ${options.timeoutMs} ms.`, { details: { id } }))),
        options.timeoutMs,
      );
    }
    void check();
  });
}
