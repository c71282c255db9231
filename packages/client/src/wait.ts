import { FINAL_TASK_STATUSES, type QueueDatabase, QueueError, selectTask, type TaskRow } from "@queue/core";
import type { WaitOptions } from "./types.js";

const FIRST_POLL_MS = 5;

/**
 * Polls the task by primary key (a few microseconds a check), starting fast and backing off to
 * `maxPollIntervalMs`, until it reaches a final status, the timeout passes, or the signal aborts.
 */
export function waitForFinalTask(db: QueueDatabase, id: number, options: WaitOptions): Promise<TaskRow> {
  const maxInterval = options.maxPollIntervalMs ?? 250;
  return new Promise<TaskRow>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    let interval = FIRST_POLL_MS;
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      clearTimeout(deadline);
      options.signal?.removeEventListener("abort", onAbort);
      settle();
    };
    const onAbort = () =>
      finish(() =>
        reject(new QueueError("ABORTED", `Stopped waiting for task ${id}: the signal was aborted.`, { cause: options.signal?.reason })),
      );
    const check = () => {
      let row: TaskRow | undefined;
      try {
        row = db.read((tx) => selectTask(tx, id));
      } catch (error) {
        finish(() => reject(error));
        return;
      }
      if (row === undefined) {
        finish(() => reject(new QueueError("NOT_FOUND", `No task with id ${id}; it may have been cleaned up.`, { details: { id } })));
        return;
      }
      if ((FINAL_TASK_STATUSES as readonly string[]).includes(row.status)) {
        const final = row;
        finish(() => resolve(final));
        return;
      }
      timer = setTimeout(check, interval);
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
    check();
  });
}
