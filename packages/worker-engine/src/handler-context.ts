// What a handler's ctx does: its AbortSignal, and the writes it may make while it holds the lease
// (heartbeat, progress, log), each checked against the lease token.
import { LOG_LEVELS, type LogLevel, QueueError, type QueueStore, serializeJson, type Task } from "@queue/core";
import type { AbortReason, Attempt } from "./attempt.js";
import type { TaskContext } from "./handlers.js";

/** What a handler's context does for its attempt; one set per worker. */
export interface ContextOps {
  signal(attempt: Attempt): AbortSignal;
  heartbeat(attempt: Attempt): Promise<void>;
  progress(attempt: Attempt, value: number): Promise<void>;
  log(attempt: Attempt, level: LogLevel, message: string, details?: unknown): Promise<void>;
}

export interface ContextSettings {
  readonly store: QueueStore;
  readonly workerId: string;
  readonly leaseMs: number;
  /** Tells the attempt's handler to stop (a heartbeat that finds the lease lost or a cancel requested). */
  readonly abort: (attempt: Attempt, reason: AbortReason) => void;
}

/** The operations every handler context of one worker shares. */
export function contextOps({ store, workerId, leaseMs, abort }: ContextSettings): ContextOps {
  const leaseLostError = (attempt: Attempt, consequence = "") =>
    new QueueError("LEASE_LOST", `Worker ${workerId} no longer holds the lease of task ${attempt.task.id}${consequence}.`, {
      details: { taskId: attempt.task.id },
    });
  return {
    signal: (attempt) => {
      attempt.controller ??= new AbortController();
      if (attempt.abortError !== undefined && !attempt.controller.signal.aborted) attempt.controller.abort(attempt.abortError);
      return attempt.controller.signal;
    },
    heartbeat: async (attempt) => {
      const result = await store.renewLeases({ workerId, leases: [attempt.lease], leaseMs });
      if (result === undefined || result.lost.length > 0) {
        abort(attempt, "lease-lost");
        throw leaseLostError(attempt);
      }
      if (result.held.get(attempt.task.id)?.cancelRequested) abort(attempt, "cancel");
    },
    progress: async (attempt, value) => {
      if (typeof value !== "number" || !Number.isFinite(value)) {
        throw new QueueError("INVALID_ARGUMENT", `progress() expects a finite number; got ${String(value)}.`);
      }
      const held = await store.setTaskProgress(attempt.lease, value);
      if (!held) throw leaseLostError(attempt);
    },
    log: async (attempt, level, message, details) => {
      if (!LOG_LEVELS.includes(level))
        throw new QueueError("INVALID_ARGUMENT", `log() level must be one of ${LOG_LEVELS.join(", ")}; got ${String(level)}.`);
      if (typeof message !== "string") throw new QueueError("INVALID_ARGUMENT", "log() message must be a string.");
      const json = details === undefined ? null : serializeJson(details, { what: "log details", maxBytes: 64 * 1024 });
      const written = await store.appendLeasedTaskLog(attempt.lease, level, message, json);
      if (!written) throw leaseLostError(attempt, "; the log line was not written");
    },
  };
}

/**
 * A handler's TaskContext. Its functions are made the first time a handler reads them (most
 * handlers never do), each bound to its attempt, so a handler may also take them off the
 * context: `const { heartbeat } = ctx`.
 */
export class HandlerContext implements TaskContext {
  readonly #attempt: Attempt;
  readonly #ops: ContextOps;
  #heartbeat: TaskContext["heartbeat"] | undefined;
  #progress: TaskContext["progress"] | undefined;
  #log: TaskContext["log"] | undefined;

  constructor(attempt: Attempt, ops: ContextOps) {
    this.#attempt = attempt;
    this.#ops = ops;
  }

  get task(): Task {
    return this.#attempt.task;
  }

  get signal(): AbortSignal {
    return this.#ops.signal(this.#attempt);
  }

  get heartbeat(): TaskContext["heartbeat"] {
    this.#heartbeat ??= () => this.#ops.heartbeat(this.#attempt);
    return this.#heartbeat;
  }

  get progress(): TaskContext["progress"] {
    this.#progress ??= (value: number) => this.#ops.progress(this.#attempt, value);
    return this.#progress;
  }

  get log(): TaskContext["log"] {
    this.#log ??= (level: LogLevel, message: string, details?: unknown) => this.#ops.log(this.#attempt, level, message, details);
    return this.#log;
  }
}
