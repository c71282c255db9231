import type { Task, TaskStatus } from "@queue/core";

/**
 * Maps each task type to its payload type, for compile-time checks from producer to handler:
 *
 *   type Tasks = { "send-email": { to: string; subject: string } };
 *   const client = new QueueClient<Tasks>({ path });
 *   await client.enqueue("send-email", { to: "ada@example.com", subject: "Hi" });
 *
 * Without a map, any type name and any JSON payload are accepted.
 */
export type TaskPayloads = object;

/** The type names of a map, as strings. */
export type TaskTypeName<Types extends TaskPayloads> = keyof Types & string;

/**
 * Maps task types to what their handlers return, so that `get` and `waitFor` type `task.result`:
 *
 *   type Results = { "resize-image": { bytes: number } };
 *   const client = new QueueClient<Tasks, Results>({ path });
 *
 * A type left out of the map has an `unknown` result.
 */
export type TaskResults = object;

/** The result type of `Type` in a results map (`unknown` when the map does not name it). */
export type ResultOf<Results extends TaskResults, Type extends string> = Type extends keyof Results ? Results[Type] : unknown;

/** A task of one type of the map: its `type`, payload and result are typed together. */
export type TypedTask<Types extends TaskPayloads, Results extends TaskResults, Type extends TaskTypeName<Types>> = Task<
  Types[Type],
  ResultOf<Results, Type>
> & { readonly type: Type };

/** A task of any type of the map; checking `task.type` narrows its payload and result. */
export type AnyTypedTask<Types extends TaskPayloads, Results extends TaskResults> = {
  [Type in TaskTypeName<Types>]: TypedTask<Types, Results, Type>;
}[TaskTypeName<Types>];

/** What `get` and `waitFor` take besides an id: a task (or `{ id, type }`), whose type they keep. */
export interface TaskReference<Type extends string = string> {
  readonly id: number;
  readonly type: Type;
}

export interface EnqueueOptions {
  /** Lower runs first under the `priority` strategy. An integer; default 0. */
  readonly priority?: number;
  /** Do not run before this many milliseconds from now. */
  readonly delayMs?: number;
  /** Do not run before this time. Give either `runAt` or `delayMs`. */
  readonly runAt?: Date | number;
  /** How many attempts before the task is dead-lettered; default the client's `defaultMaxAttempts` (3). */
  readonly maxAttempts?: number;
  /** Enqueueing the same key again returns the first task instead of adding another. */
  readonly idempotencyKey?: string;
  /** Abort an attempt that runs longer than this; it counts as a failure. */
  readonly timeoutMs?: number;
  /** Capabilities a worker must declare to claim this task (for example "gpu"). */
  readonly requires?: readonly string[];
}

export interface EnqueueResult<Payload = unknown, Result = unknown, Type extends string = string> {
  readonly task: Task<Payload, Result> & { readonly type: Type };
  /** False when an idempotency key matched an existing task, which is returned instead. */
  readonly created: boolean;
}

export interface EnqueueItem<Types extends TaskPayloads = TaskPayloads, Type extends TaskTypeName<Types> = TaskTypeName<Types>> {
  readonly type: Type;
  readonly payload: Types[Type];
  readonly options?: EnqueueOptions;
}

export interface ListOptions {
  readonly status?: TaskStatus;
  readonly type?: string;
  /** Page size, 1 to 1000; default 50. */
  readonly limit?: number;
  /** The `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** `newest` first (default) or `oldest` first, by id. */
  readonly order?: "newest" | "oldest";
}

export interface TaskPage<Payload = unknown> {
  readonly tasks: readonly Task<Payload>[];
  /** Pass as `cursor` for the next page; absent on the last page. */
  readonly nextCursor?: string;
}

export interface WaitOptions {
  /** Give up after this long with a TIMEOUT error. Default: wait forever. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Longest pause between checks; default 250 ms (checks start at 5 ms and back off). */
  readonly maxPollIntervalMs?: number;
}
