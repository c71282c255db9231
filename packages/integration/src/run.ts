import { QueueError, type TaskStatus } from "@queue/core";

export type RunStatus = "queued" | "running" | "completed" | "failed" | "cancelled";

export const FINAL_RUN_STATUSES: readonly RunStatus[] = Object.freeze(["completed", "failed", "cancelled"]);

/** One execution of a module, as an application tracks it. Plain JSON, so the history can be saved. */
export interface Run {
  readonly id: string;
  readonly moduleId: string;
  readonly moduleName?: string;
  readonly status: RunStatus;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  /** Not started before this time (ISO 8601); a queued run waits for it. */
  readonly scheduledFor?: string;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  readonly durationMs?: number;
  /** 0 to 1. */
  readonly progress?: number;
  readonly itemsProcessed?: number;
  readonly itemsTotal?: number;
  readonly exitCode?: number;
  readonly error?: string;
}

/** What a caller gives to start a run; the manager fills in status and times. */
export type RunRequest = Pick<Run, "id" | "moduleId" | "parameters"> & Partial<Pick<Run, "moduleName" | "itemsTotal" | "scheduledFor">>;

/**
 * `base` with `fields` set, as a new frozen run. Built with Object.assign, never with object spread:
 * in Node 20's V8, optimised code that spreads an object and then adds properties the source lacks
 * (`{ ...request, status }`) gives every object it builds a hidden class of its own. Each such run
 * then costs several times as much to build and to read, and every place that reads runs slows
 * down with it.
 */
export function runWith(base: RunRequest | Run, fields: Partial<Omit<Run, "id">>): Run {
  const run = Object.assign({}, base, fields);
  // Object.assign sets a "__proto__" key through its setter: a request parsed from JSON with one
  // must not choose the run's prototype (and with it, inherited fields such as scheduledFor).
  if (Object.getPrototypeOf(run) !== Object.prototype) Object.setPrototypeOf(run, Object.prototype);
  return Object.freeze(run) as Run;
}

let lastIsoMs = Number.NaN;
let lastIso = "";

/**
 * `new Date(ms).toISOString()`, remembering the last one: runs recorded in the same millisecond (a
 * burst of starts, a batch of outcomes) share it, and formatting costs about half a microsecond.
 */
export function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

/** Epoch milliseconds of a request's `scheduledFor`, or undefined; a clear error when it is not a date. */
export function scheduledTimeOf(request: RunRequest): number | undefined {
  if (request.scheduledFor === undefined) return undefined;
  const time = Date.parse(request.scheduledFor);
  if (Number.isNaN(time)) {
    throw new QueueError(
      "INVALID_ARGUMENT",
      `Run ${request.id}: scheduledFor ${JSON.stringify(request.scheduledFor)} is not a date; give an ISO 8601 time such as "2026-11-22T10:00:00Z".`,
    );
  }
  return time;
}

/**
 * The one mapping between task and run statuses: queued -> queued, leased -> running,
 * completed -> completed, dead_letter -> failed, cancelled -> cancelled.
 */
export function runStatusOf(status: TaskStatus): RunStatus {
  switch (status) {
    case "queued":
      return "queued";
    case "leased":
      return "running";
    case "completed":
      return "completed";
    case "dead_letter":
      return "failed";
    case "cancelled":
      return "cancelled";
  }
}

/** One of FINAL_RUN_STATUSES (spelled out: this is called for every run event). */
export function isFinal(status: RunStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}
