import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import {
  type DatabaseThread,
  invalidConfig,
  type OpenQueueDatabaseOptions,
  type QueueDatabase,
  QueueError,
  type QueueStore,
  storeFromOptions,
} from "@queue/core";
import { defineStrategy, getStrategy, type SchedulingStrategy, validateWorkerConfig, type WorkerConfig } from "@queue/scheduling";
import { type BackoffPolicy, resolveBackoff } from "./backoff.js";
import type { TaskHandlers } from "./handlers.js";

export interface WorkerOptions<Types extends object = Record<string, unknown>, Results extends object = Record<never, never>> {
  /**
   * The store the worker claims from and records to (SQLite, PostgreSQL, or any backend of the
   * storage port); the worker does not close it. Or give `db` or `path` for SQLite, `url` for PostgreSQL.
   */
  readonly store?: QueueStore;
  /** An open database to use; the worker does not close it. */
  readonly db?: QueueDatabase;
  /**
   * Or a path to open (default: QUEUE_DB_PATH, else the per-user data directory); closed on stop.
   * A postgres:// URL here (or in QUEUE_DB_PATH) opens that database, as `url` does.
   */
  readonly path?: string;
  /** Or a PostgreSQL database to open: a postgres:// or postgresql:// URL (`?schema=NAME`; needs @queue/postgres); closed on stop. */
  readonly url?: string;
  /** Further options for opening `path` (pragmas, clock, busy retry); on PostgreSQL only `clock` applies. */
  readonly open?: Omit<OpenQueueDatabaseOptions, "path" | "connection">;
  readonly handlers: TaskHandlers<Types, Results>;
  /** Settings loaded with `loadWorkerConfig()`; explicit options below win over them. */
  readonly config?: WorkerConfig;
  /** Tasks run at once. Default 1. */
  readonly concurrency?: number;
  /** A strategy name (fifo, lifo, priority, weighted_random, or a registered one) or object. Default priority. */
  readonly strategy?: string | SchedulingStrategy;
  /** How long a claim lasts without renewal. Default 30 s. */
  readonly leaseMs?: number;
  /** How often leases of running tasks are renewed (and cancels noticed). Default a third of leaseMs, at most 5 s. */
  readonly heartbeatMs?: number;
  /** How often an idle worker checks the file for new work from other processes. Default 100 ms. */
  readonly pollIntervalMs?: number;
  readonly workerId?: string;
  /** Capabilities this worker offers; tasks requiring others are left for other workers. */
  readonly capabilities?: readonly string[];
  /** Task types to claim: default the types with a handler; "all" also claims (and dead-letters) types without one. */
  readonly types?: readonly string[] | "all";
  readonly backoff?: Partial<BackoffPolicy>;
  /** Largest result, as JSON bytes. Default 1 MiB. */
  readonly maxResultBytes?: number;
  /** Stop gracefully on SIGINT and SIGTERM. Default false. */
  readonly handleSignals?: boolean;
  /** How long a graceful stop waits for running tasks before aborting them. Default 30 s. */
  readonly shutdownTimeoutMs?: number;
  /**
   * After a handler is aborted (cancel, timeout, shutdown, lost lease), how long it may take to stop
   * before its outcome is recorded and the task may run again. Default 5 s.
   */
  readonly abortGraceMs?: number;
  /**
   * Tasks claimed ahead of free slots and held (leased) in this worker until a slot frees, so that
   * one write transaction records a batch of outcomes and claims the next batch. A number fixes
   * it; "auto" (the default) holds up to `concurrency` tasks while handlers take under
   * {@link AUTO_PREFETCH_BELOW_MS} ms on average, and none for longer tasks, which gain nothing from
   * it and would keep work from other workers.
   */
  readonly prefetch?: number | "auto";
  /**
   * With `db` or `path`: a thread serving `WORKER_THREAD_OPS` on its own connection to the same
   * file (see `DatabaseThread`): claims, recorded outcomes and lease renewals then run there,
   * beside the handlers rather than between them; once the thread stops, the worker goes on with
   * its own connection. Not closed by the worker. (With `store`, give the thread to the SqliteStore.)
   */
  readonly databaseThread?: DatabaseThread;
}

/** Under "auto", tasks are claimed ahead only while handlers average less than this. */
export const AUTO_PREFETCH_BELOW_MS = 100;

export interface ResolvedWorkerOptions {
  readonly concurrency: number;
  readonly strategy: SchedulingStrategy;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly pollIntervalMs: number;
  readonly workerId: string;
  readonly capabilities: readonly string[];
  /** undefined: every type. */
  readonly types: readonly string[] | undefined;
  readonly backoff: BackoffPolicy;
  readonly maxResultBytes: number;
  readonly handleSignals: boolean;
  readonly shutdownTimeoutMs: number;
  readonly abortGraceMs: number;
  readonly prefetch: number | "auto";
}

export function defaultWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
}

export function resolveWorkerOptions(options: WorkerOptions<object>): ResolvedWorkerOptions {
  if (typeof options !== "object" || options === null) invalidConfig("Worker options", options, "an options object");
  const handlers = options.handlers as Record<string, unknown> | undefined;
  if (typeof handlers !== "object" || handlers === null)
    invalidConfig("handlers", handlers, "an object mapping task types to handler functions");
  for (const [type, handler] of Object.entries(handlers)) {
    if (typeof handler !== "function")
      invalidConfig(`handlers[${JSON.stringify(type)}]`, handler, "a function (payload, context) => result");
  }
  if (options.db !== undefined && (options.path !== undefined || options.url !== undefined))
    throw new QueueError("INVALID_CONFIG", `Give Worker either db or ${options.path === undefined ? "url" : "path"}, not both.`);
  if (options.path !== undefined && options.url !== undefined)
    throw new QueueError("INVALID_CONFIG", "Give Worker either url or path, not both.", { details: { option: "url" } });
  if (options.store !== undefined) {
    const also = (["db", "path", "url", "open", "databaseThread"] as const).filter((name) => options[name] !== undefined);
    if (also.length > 0) {
      throw new QueueError(
        "INVALID_CONFIG",
        `Give Worker either store or ${also.join("/")}, not both: a store is already open (give a database thread to the SqliteStore itself).`,
      );
    }
  }
  const config = options.config ?? {};
  const explicit = validateWorkerConfig(
    {
      id: options.workerId,
      strategy: typeof options.strategy === "string" ? options.strategy : undefined,
      leaseMs: options.leaseMs,
      heartbeatMs: options.heartbeatMs,
      pollIntervalMs: options.pollIntervalMs,
      concurrency: options.concurrency,
      capabilities: options.capabilities,
      types: options.types === "all" ? undefined : options.types,
    },
    "Worker options",
  );
  const merged = validateWorkerConfig({ ...config, ...explicit }, "Worker options");
  const leaseMs = merged.leaseMs ?? 30_000;
  const heartbeatMs = merged.heartbeatMs ?? Math.max(5, Math.min(5_000, Math.floor(leaseMs / 3)));
  if (heartbeatMs >= leaseMs)
    invalidConfig("heartbeatMs", heartbeatMs, `less than leaseMs (${leaseMs}), or leases expire between heartbeats`);
  const strategy = typeof options.strategy === "object" ? defineStrategy(options.strategy) : getStrategy(merged.strategy ?? "priority");
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? 30_000;
  if (!Number.isFinite(shutdownTimeoutMs) || shutdownTimeoutMs < 0)
    invalidConfig("shutdownTimeoutMs", shutdownTimeoutMs, "milliseconds >= 0");
  const abortGraceMs = options.abortGraceMs ?? 5_000;
  if (!Number.isFinite(abortGraceMs) || abortGraceMs < 0) invalidConfig("abortGraceMs", abortGraceMs, "milliseconds >= 0");
  const maxResultBytes = options.maxResultBytes ?? 1024 * 1024;
  if (!Number.isInteger(maxResultBytes) || maxResultBytes < 1) invalidConfig("maxResultBytes", maxResultBytes, "a positive integer");
  const prefetch = options.prefetch ?? "auto";
  if (prefetch !== "auto" && (!Number.isInteger(prefetch) || prefetch < 0))
    invalidConfig("prefetch", prefetch, '"auto" or an integer >= 0 (tasks claimed ahead of free slots)');
  const types = options.types === "all" ? undefined : (merged.types ?? Object.keys(handlers));
  return Object.freeze({
    concurrency: merged.concurrency ?? 1,
    strategy,
    leaseMs,
    heartbeatMs,
    pollIntervalMs: merged.pollIntervalMs ?? 100,
    workerId: merged.id ?? defaultWorkerId(),
    capabilities: Object.freeze([...(merged.capabilities ?? [])]),
    types: types === undefined ? undefined : Object.freeze([...types]),
    backoff: resolveBackoff(options.backoff),
    maxResultBytes,
    handleSignals: options.handleSignals ?? false,
    shutdownTimeoutMs,
    abortGraceMs,
    prefetch,
  });
}

/** The store a worker uses: the one given, or the one its `db`, `url` or `path` names (which it then owns if it opened it). */
export function workerStore(options: WorkerOptions<object>): { readonly store: QueueStore; readonly owned: boolean } {
  if (options.store !== undefined) return { store: options.store, owned: false };
  const { store, opened } = storeFromOptions(options, "Worker");
  return { store, owned: opened };
}
