// BackgroundTaskManager vs QueuedTaskManager on the same workload, at the same concurrency.
import { performance } from "node:perf_hooks";
import { BackgroundTaskManager, QueuedTaskManager, RunRegistry, type TaskManager } from "@queue/integration";

const CONCURRENCY = 32;
let counter = 0;

function work(kind: "sleep-1ms" | "no-op"): () => Promise<void> {
  return kind === "no-op" ? async () => undefined : () => new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * 32 callers, each starting a run and waiting for it to finish before starting the next, until
 * `runs` have been started. Runs/second.
 */
async function inLanes(manager: TaskManager, runs: number): Promise<number> {
  const finished = new Map<string, () => void>();
  manager.registry.on("change", (run) => {
    if (run.status === "completed") finished.get(run.id)?.();
  });
  let started = 0;
  const lane = async () => {
    while (started < runs) {
      const id = `${manager.kind}-${++counter}`;
      started += 1;
      const done = new Promise<void>((resolve) => finished.set(id, resolve));
      await manager.startTask({ id, moduleId: "work", parameters: {} });
      await done;
      finished.delete(id);
    }
  };
  const begin = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return (runs / (performance.now() - begin)) * 1000;
}

/** In memory: the concurrency is the 32 callers' (see inLanes). Runs/second. */
export async function inMemoryRuns(runs: number, kind: "sleep-1ms" | "no-op"): Promise<number> {
  const manager: TaskManager = new BackgroundTaskManager(new RunRegistry());
  manager.registerModule("work", work(kind));
  const perSecond = await inLanes(manager, runs);
  await manager.close();
  return perSecond;
}

/** On the queue, driven as in memory: 32 callers, each waiting for its run before the next. Runs/second. */
export async function queuedRunsInLanes(path: string, runs: number, kind: "sleep-1ms" | "no-op"): Promise<number> {
  const manager = new QueuedTaskManager({ path, embeddedWorker: { concurrency: CONCURRENCY, pollIntervalMs: 5 } });
  manager.registerModule("work", work(kind));
  const perSecond = await inLanes(manager, runs);
  const completed = manager.registry.byStatus("completed").length;
  await manager.close();
  if (completed !== runs) throw new Error(`QueuedTaskManager completed ${completed} of ${runs} runs`);
  return perSecond;
}

/**
 * On the queue: every run started (group-committed), an embedded worker at concurrency 32; with
 * `databaseThread`, the manager writes from a thread of its own. Runs/second.
 */
export async function queuedRuns(
  path: string,
  runs: number,
  kind: "sleep-1ms" | "no-op",
  options: { readonly databaseThread?: boolean } = {},
): Promise<number> {
  const manager = new QueuedTaskManager({
    path,
    embeddedWorker: { concurrency: CONCURRENCY, pollIntervalMs: 5 },
    databaseThread: options.databaseThread === true,
  });
  manager.registerModule("work", work(kind));
  // Part of setting the manager up, as opening its file is: a thread loads its modules once.
  await manager.databaseThread?.ready;
  const begin = performance.now();
  await Promise.all(Array.from({ length: runs }, () => manager.startTask({ id: `queue-${++counter}`, moduleId: "work", parameters: {} })));
  await manager.waitAll();
  const elapsed = performance.now() - begin;
  const completed = manager.registry.byStatus("completed").length;
  await manager.close();
  if (completed !== runs) throw new Error(`QueuedTaskManager completed ${completed} of ${runs} runs`);
  return (runs / elapsed) * 1000;
}
