import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { QueueClient } from "@queue/client";
import type { QueueDatabase } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import type { CheckResult } from "./result.js";

/**
 * A real round trip through the public API on `db`: enqueue a task of a private type, let a Worker
 * that handles only that type claim and complete it, read the result, and delete the task. Other
 * workers leave the private type alone (they claim only types they have handlers for).
 */
export async function validateWorkerIntegration(db: QueueDatabase, timeoutMs = 10_000): Promise<CheckResult> {
  const started = performance.now();
  const type = `queue-validation-${randomUUID()}`;
  const client = new QueueClient({ db });
  const worker = new Worker({ db, pollIntervalMs: 5, handlers: { [type]: (payload: unknown) => ({ echoed: payload }) } });
  let taskId: number | undefined;
  try {
    const { task } = await client.enqueue(type, { probe: 42 });
    taskId = task.id;
    await worker.start();
    const final = await client.waitFor<unknown, { echoed: unknown }>(task.id, { timeoutMs });
    const ok = final.status === "completed" && JSON.stringify(final.result) === JSON.stringify({ echoed: { probe: 42 } });
    return {
      name: "worker integration",
      status: ok ? "pass" : "fail",
      message: ok ? "enqueue -> claim -> complete round trip succeeded" : `the probe task ended ${final.status}`,
      ...(ok ? {} : { hint: `look at task ${task.id}'s error` }),
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    return {
      name: "worker integration",
      status: "fail",
      message: (error as Error).message,
      hint: "check that the file is writable and not locked by a long transaction",
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await worker.stop();
    if (taskId !== undefined) {
      const id = taskId;
      await db.transaction((tx) => tx.statement("DELETE FROM tasks WHERE id = ? AND type = ?").run(id, type)).catch(() => undefined);
    }
  }
}
