import { QueueError } from "@queue/core";
import { isFinal, type Run } from "./run.js";
import type { TaskManager } from "./task-manager.js";

export type ExecutionPattern = "simple" | "long-running" | "concurrent" | "fire-and-forget" | "periodic" | "pooled";

export interface OrchestrationRequest {
  readonly moduleId: string;
  readonly parameters?: Readonly<Record<string, unknown>>;
  /** Choose the pattern yourself; otherwise it is inferred from the other fields. */
  readonly pattern?: ExecutionPattern;
  /** One run per item (concurrent, or pooled with `poolSize`); each item is merged into the parameters. */
  readonly items?: readonly Readonly<Record<string, unknown>>[];
  readonly poolSize?: number;
  /**
   * Periodic: a run every `intervalMs`, `times` times. All are scheduled at once (each with its
   * `scheduledFor`), so with the queue backend the schedule is durable.
   */
  readonly intervalMs?: number;
  readonly times?: number;
  /** Long-running: a run expected to take this long is started and left to report progress. */
  readonly expectedDurationMs?: number;
  /** Start and return at once, without waiting. */
  readonly fireAndForget?: boolean;
  /** A prefix for the run ids (default: the module id). */
  readonly runIdPrefix?: string;
}

export interface OrchestrationResult {
  readonly pattern: ExecutionPattern;
  /** The runs as they stand when run() returned (final for the patterns that wait). */
  readonly runs: readonly Run[];
}

const LONG_RUNNING_MS = 60_000;
let sequence = 0;

/**
 * Picks an execution pattern for a request and runs it through the task manager it is given, so
 * the same orchestration works in memory and on the queue.
 */
export class TaskOrchestrator {
  readonly manager: TaskManager;
  /** Settles the runs still awaited when the manager closes. */
  readonly #waiting = new Set<() => void>();

  constructor(manager: TaskManager) {
    this.manager = manager;
    manager.closed.then(() => {
      for (const settle of [...this.#waiting]) settle();
    });
  }

  choosePattern(request: OrchestrationRequest): ExecutionPattern {
    if (request.pattern !== undefined) return request.pattern;
    if (request.intervalMs !== undefined) return "periodic";
    if (request.items !== undefined) return request.poolSize === undefined ? "concurrent" : "pooled";
    if (request.fireAndForget) return "fire-and-forget";
    if ((request.expectedDurationMs ?? 0) >= LONG_RUNNING_MS) return "long-running";
    return "simple";
  }

  async run(request: OrchestrationRequest): Promise<OrchestrationResult> {
    const pattern = this.choosePattern(request);
    const parameters = request.parameters ?? {};
    const start = (extra: Readonly<Record<string, unknown>> = {}, scheduledFor?: number) =>
      this.manager.startTask({
        id: `${request.runIdPrefix ?? request.moduleId}-${Date.now()}-${++sequence}`,
        moduleId: request.moduleId,
        parameters: { ...parameters, ...extra },
        ...(scheduledFor === undefined ? {} : { scheduledFor: new Date(scheduledFor).toISOString() }),
      });
    switch (pattern) {
      case "simple":
        return { pattern, runs: [await this.#finished(await start())] };
      case "long-running":
      case "fire-and-forget":
        return { pattern, runs: [await start()] };
      case "concurrent": {
        const runs = await Promise.all((request.items ?? []).map((item) => start(item)));
        return { pattern, runs: await Promise.all(runs.map((run) => this.#finished(run))) };
      }
      case "pooled": {
        const size = request.poolSize ?? 4;
        if (!Number.isInteger(size) || size < 1)
          throw new QueueError("INVALID_ARGUMENT", `poolSize must be a positive integer; got ${size}.`);
        const items = [...(request.items ?? [])];
        const done: Run[] = [];
        const lane = async () => {
          for (let item = items.shift(); item !== undefined; item = items.shift()) done.push(await this.#finished(await start(item)));
        };
        await Promise.all(Array.from({ length: Math.min(size, items.length) }, lane));
        return { pattern, runs: done };
      }
      case "periodic": {
        // Every occurrence is started up front with its own start time, so on the queue backend the
        // whole schedule is in the file and survives a restart of this process.
        const times = request.times ?? 1;
        const interval = request.intervalMs ?? 0;
        if (!Number.isInteger(times) || times < 1)
          throw new QueueError("INVALID_ARGUMENT", `times must be a positive integer; got ${times}.`);
        if (!Number.isFinite(interval) || interval < 0)
          throw new QueueError("INVALID_ARGUMENT", `intervalMs must be a non-negative number of milliseconds; got ${interval}.`);
        const first = this.manager.registry.clock.now();
        const runs: Run[] = [];
        for (let n = 0; n < times; n++) runs.push(await start({ occurrence: n + 1 }, first + n * interval));
        return { pattern, runs: await Promise.all(runs.map((run) => this.#finished(run))) };
      }
    }
  }

  /**
   * Resolves with the run once the registry shows it finished; rejects with CLOSED if the manager
   * closes first (on the queue, the run stays queued for the next manager on the file).
   */
  #finished(run: Run): Promise<Run> {
    const registry = this.manager.registry;
    const current = registry.get(run.id);
    if (current !== undefined && isFinal(current.status)) return Promise.resolve(current);
    return new Promise((resolve, reject) => {
      const done = () => {
        off();
        this.#waiting.delete(onClosed);
      };
      const off = registry.on("change", (changed) => {
        if (changed.id === run.id && isFinal(changed.status)) {
          done();
          resolve(changed);
        }
      });
      const onClosed = () => {
        done();
        const last = registry.get(run.id);
        if (last !== undefined && isFinal(last.status)) resolve(last);
        else
          reject(
            new QueueError("CLOSED", `The task manager closed before run ${run.id} finished; it is ${last?.status ?? "unknown"}.`, {
              details: { runId: run.id, status: last?.status },
            }),
          );
      };
      this.#waiting.add(onClosed);
    });
  }
}
