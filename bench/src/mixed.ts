// Scenario "mixed": producer processes and worker processes on one file at once for a fixed time.
// Reports how fast tasks went in and came out, the backlog left at the end, and that no task ran
// twice (every execution is recorded by task id, as in the multi-process tests).
import { join } from "node:path";
import { countTasksByStatus, openQueueDatabase } from "@queue/core";
import { benchScript, spawnBenchChild } from "./child.js";

export interface MixedProducerReport {
  readonly enqueued: number;
  readonly elapsedMs: number;
  readonly errors: string[];
  readonly maxRssKiB: number;
}

export interface MixedWorkerReport {
  readonly executions: number[];
  readonly errors: string[];
  readonly maxRssKiB: number;
}

export interface MixedSettings {
  readonly producers: number;
  /** enqueue() calls each producer keeps outstanding. */
  readonly inFlight: number;
  readonly workers: number;
  readonly concurrency: number;
  readonly seconds: number;
}

export interface MixedResult {
  readonly settings: MixedSettings;
  readonly enqueued: number;
  readonly enqueuedPerSecond: number;
  readonly processed: number;
  readonly processedPerSecond: number;
  /** Tasks still queued or leased at the end. */
  readonly backlog: number;
  /** Task ids that ran more than once (must be 0). */
  readonly duplicates: number;
  /** Tasks that ran but are not recorded as completed (must be 0). */
  readonly unrecorded: number;
  /** Enqueued tasks neither run nor left in the backlog (must be 0). */
  readonly lost: number;
  readonly errors: string[];
  /** KiB, the largest peak among each kind of process. */
  readonly producerMaxRssKiB: number;
  readonly workerMaxRssKiB: number;
}

/** How many ids occur more than once. */
export function countDuplicates(ids: Iterable<number>): number {
  const seen = new Map<number, number>();
  for (const id of ids) seen.set(id, (seen.get(id) ?? 0) + 1);
  let duplicates = 0;
  for (const times of seen.values()) if (times > 1) duplicates += 1;
  return duplicates;
}

export async function measureMixed(directory: string, settings: MixedSettings): Promise<MixedResult> {
  const path = join(directory, "mixed.db");
  openQueueDatabase({ path }).close();
  const script = benchScript("mixed-child.ts");
  const durationMs = settings.seconds * 1000;
  const producers = Array.from({ length: settings.producers }, () =>
    spawnBenchChild<MixedProducerReport>(script, ["producer", path, String(settings.inFlight), String(durationMs)]),
  );
  const workers = Array.from({ length: settings.workers }, () =>
    spawnBenchChild<MixedWorkerReport>(script, ["worker", path, String(settings.concurrency)]),
  );
  const all = [...producers, ...workers];
  try {
    await Promise.all(all.map((child) => child.ready));
  } catch (error) {
    for (const { child } of all) child.kill();
    throw error;
  }
  for (const child of all) child.send("go");
  await new Promise((resolve) => setTimeout(resolve, durationMs));
  const producerReports = await Promise.all(producers.map((child) => child.report));
  for (const child of workers) child.send("stop");
  const workerReports = await Promise.all(workers.map((child) => child.report));

  const db = openQueueDatabase({ path });
  const counts = countTasksByStatus(db);
  db.close();
  const executions = workerReports.flatMap((report) => report.executions);
  const enqueued = producerReports.reduce((sum, report) => sum + report.enqueued, 0);
  return {
    settings,
    enqueued,
    enqueuedPerSecond: enqueued / settings.seconds,
    processed: executions.length,
    processedPerSecond: executions.length / settings.seconds,
    backlog: counts.queued + counts.leased,
    duplicates: countDuplicates(executions),
    unrecorded: new Set(executions).size - counts.completed,
    lost: enqueued - new Set(executions).size - (counts.queued + counts.leased),
    errors: [...producerReports, ...workerReports].flatMap((report) => report.errors),
    producerMaxRssKiB: Math.max(...producerReports.map((report) => report.maxRssKiB)),
    workerMaxRssKiB: Math.max(...workerReports.map((report) => report.maxRssKiB)),
  };
}
