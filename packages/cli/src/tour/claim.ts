import type { Task } from "@queue/core";
import { TaskLogger } from "@queue/observability";
import { type TaskHandlers, Worker } from "@queue/worker-engine";
import type { TourStep } from "./step.js";

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(signal.reason);
    });
  });

/** The tour's task types and their payloads, shared by its client and its workers. */
export type TourTasks = {
  "send-email": { to: string };
  "resize-image": { url: string; width: number };
  "generate-report": { month: string };
};

/** The handlers of the tour's task types: short, honouring their AbortSignal, logging and reporting progress. */
export const tourHandlers: TaskHandlers<TourTasks> = {
  "send-email": async ({ to }, ctx) => {
    await sleep(2, ctx.signal);
    await ctx.log("info", "sent");
    return { sent: to };
  },
  "resize-image": async ({ width }, ctx) => {
    await sleep(5, ctx.signal);
    await ctx.progress(1);
    return { width, height: Math.round(width * 0.75) };
  },
  "generate-report": async ({ month }, ctx) => {
    await sleep(5, ctx.signal);
    return { report: `report-${month}.pdf` };
  },
};

/** A worker claims the due tasks atomically, runs them under a lease and records each outcome; the delayed one waits. */
export const claimStep: TourStep = {
  name: "claim",
  title: "Claim and complete with a worker",
  summary:
    "A Worker claims due tasks in batches, runs their handlers under a lease and records outcomes; the delayed task is claimed only once it falls due.",
  async run(tour) {
    const { db, client } = tour;
    const worker = new Worker<TourTasks>({ db, concurrency: 4, handlers: tourHandlers });
    const completedBy: Record<string, number> = {};
    const started = Date.now();
    let emailed: Task | undefined;
    worker.on("completed", (task) => {
      completedBy[task.type] = (completedBy[task.type] ?? 0) + 1;
      if (task.type === "send-email") emailed ??= task;
    });
    let delayed: Task<unknown, unknown>;
    try {
      await worker.start();
      tour.call(
        "await new Worker({ db, concurrency: 4, handlers }).start()",
        `worker ${worker.id} claims up to 4 tasks at a time, under a 30 s lease it renews while they run`,
      );
      delayed = await client.waitFor(tour.shared.get("delayedTaskId") as number, { timeoutMs: 30_000 });
    } finally {
      await worker.stop();
    }
    const startedAt = delayed.startedAt?.getTime() ?? 0;
    const ranAfterMs = startedAt - delayed.createdAt.getTime();
    // Not before it was due: the claim compares run_after with the clock.
    const afterDueMs = startedAt - delayed.runAfter.getTime();
    tour.call(
      `await client.waitFor(${delayed.id})`,
      `the delayed task ${delayed.status} with ${JSON.stringify(delayed.result)}; it started ${(ranAfterMs / 1000).toFixed(2)} s after it was enqueued, ${afterDueMs} ms after it fell due`,
    );

    const stats = worker.stats;
    const byType = Object.entries(completedBy).map(([type, count]) => `${type} ${count}`);
    tour.call(
      "await worker.stop()",
      `claimed ${stats.claimed}, completed ${stats.completed}, failed ${stats.failed} in ${((Date.now() - started) / 1000).toFixed(1)} s; by type: ${byType.join(", ")}`,
      "stop() lets running tasks finish, then releases anything it still holds for other workers",
    );
    if (emailed !== undefined) {
      const [line] = await new TaskLogger(db).forTask(emailed.id);
      tour.call(
        `await new TaskLogger(db).forTask(${emailed.id})`,
        line === undefined ? "no log line" : `${line.level} "${line.message}", written by the handler through ctx.log()`,
      );
    }
    const counts = await client.counts();
    return {
      ok: delayed.status === "completed" && afterDueMs >= 0 && counts.queued === 0 && counts.leased === 0,
      data: {
        claimed: stats.claimed,
        completed: stats.completed,
        failed: stats.failed,
        completedBy,
        delayed: { startedAfterEnqueueMs: ranAfterMs, startedAfterDueMs: afterDueMs },
      },
    };
  },
};
