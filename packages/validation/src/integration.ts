import { performance } from "node:perf_hooks";
import { QueueClient } from "@queue/client";
import { asStore, type QueueDatabase, type QueueStore } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import type { CheckResult } from "./result.js";

/** The task type of the integration self-test's probe tasks. */
export const PROBE_TYPE = "queue.validation-probe";

async function removeFinishedProbes(store: QueueStore): Promise<void> {
  for (const status of ["completed", "dead_letter", "cancelled"] as const) {
    const probes = await store.listTasks({ type: PROBE_TYPE, status, limit: 1_000, order: "oldest" });
    await store.deleteFinishedTasks(probes.map((probe) => probe.id));
  }
}

/**
 * A real round trip through the public API on a store (any backend) or an open SQLite database (left
 * open): enqueue a task of a private type, let a Worker that handles only that type claim and
 * complete it, read the result, then delete the finished probe tasks, all but the newest task in the
 * queue (whose id would otherwise be given to the next task): an idle queue keeps one completed
 * probe, which the next run or a cleanup removes. Other workers leave the private type alone (they
 * claim only types they have handlers for).
 */
export async function validateWorkerIntegration(source: QueueStore | QueueDatabase, timeoutMs = 10_000): Promise<CheckResult> {
  const started = performance.now();
  const type = PROBE_TYPE;
  const store = asStore(source);
  const client = new QueueClient({ store });
  const worker = new Worker({ store, pollIntervalMs: 5, handlers: { [type]: (payload: unknown) => ({ echoed: payload }) } });
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
    if (taskId !== undefined) await removeFinishedProbes(store).catch(() => undefined);
  }
}
