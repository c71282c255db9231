// A reference model of the task state machine (ARCHITECTURE.md, "Task lifecycle"), small enough to
// be obviously right, and the commands a model-based test runs against the real engine and the
// model side by side. Commands are plain data, so a failing sequence can be pasted into a
// regression test as is.

/** The tasks' types: two, so that pauses and strategies have something to tell apart. */
export const MODEL_TYPES = ["alpha", "beta"] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** How long every simulated worker's lease lasts. */
export const MODEL_LEASE_MS = 10_000;
/** Simulated worker slots; a crash replaces the slot's worker by a new one with a new id. */
export const MODEL_WORKERS = 3;

export interface EnqueueSpec {
  readonly type: ModelType;
  readonly priority: number;
  readonly delayMs: number;
  readonly maxAttempts: number;
  /** An idempotency key from a small pool, so keys collide often; null for none. */
  readonly key: string | null;
}

export type Command =
  | ({ readonly kind: "enqueue" } & EnqueueSpec)
  /** A batch; with `poisonAt`, an invalid item is inserted there and the whole batch must be refused. */
  | { readonly kind: "enqueueMany"; readonly items: readonly EnqueueSpec[]; readonly poisonAt: number | null }
  | { readonly kind: "claim"; readonly worker: number; readonly limit: number; readonly strategy: "fifo" | "priority" }
  | { readonly kind: "complete"; readonly worker: number; readonly pick: number }
  /** Fails an attempt as the Worker decides: dead_letter when permanent or out of attempts, else retry after `backoffMs`. */
  | { readonly kind: "fail"; readonly worker: number; readonly pick: number; readonly permanent: boolean; readonly backoffMs: number }
  /** Gives a lease back untried (graceful shutdown): the attempt is refunded. */
  | { readonly kind: "release"; readonly worker: number; readonly pick: number }
  | { readonly kind: "heartbeat"; readonly worker: number }
  /** Operator cancel of a task picked among all ids (one past the last id means "no such task"). */
  | { readonly kind: "cancel"; readonly pick: number }
  /** Operator retry of a dead letter, picked the same way. */
  | { readonly kind: "retry"; readonly pick: number }
  | { readonly kind: "advance"; readonly ms: number }
  /** The worker dies: it forgets its leases, which stay in the file until they expire. */
  | { readonly kind: "crash"; readonly worker: number }
  /** A late answer from a crashed (or stalled) worker, with one of the leases it had. */
  | { readonly kind: "late"; readonly pick: number; readonly action: "complete" | "fail" | "heartbeat" }
  /** Maintenance recovers expired leases without any worker claiming. */
  | { readonly kind: "recover" }
  | { readonly kind: "pause"; readonly type: ModelType | null }
  | { readonly kind: "resume"; readonly type: ModelType | null };

export type ModelStatus = "queued" | "leased" | "completed" | "dead_letter" | "cancelled";

export interface ModelTask {
  readonly id: number;
  readonly type: ModelType;
  readonly priority: number;
  readonly maxAttempts: number;
  readonly key: string | null;
  readonly payload: { readonly seq: number };
  status: ModelStatus;
  attempts: number;
  runAfter: number;
  leaseUntil: number | null;
  token: string | null;
  lockedBy: string | null;
  cancelRequested: boolean;
  /** The result JSON recorded by the completion, once completed. */
  result: string | null;
  /** The last failure was permanent (the only other way into dead_letter than running out of attempts). */
  permanentFailure: boolean;
}

export interface ModelLease {
  readonly taskId: number;
  readonly token: string;
  readonly workerId: string;
}

/** The model: tasks by id, plus what each simulated worker believes it holds. */
export class QueueModel {
  readonly tasks = new Map<number, ModelTask>();
  readonly held: ModelLease[][] = Array.from({ length: MODEL_WORKERS }, () => []);
  readonly generation: number[] = Array.from({ length: MODEL_WORKERS }, () => 0);
  /** Leases of crashed workers. */
  zombies: ModelLease[] = [];
  /** Paused types; "*" pauses all. */
  readonly paused = new Set<string>();
  #nextId = 1;
  #seq = 0;

  workerId(slot: number): string {
    return `w${slot}.${this.generation[slot]}`;
  }

  byKey(key: string): ModelTask | undefined {
    for (const task of this.tasks.values()) if (task.key === key) return task;
    return undefined;
  }

  /** The task an enqueue of `spec` at `now` yields: an existing one for a known key, or a new one. */
  /**
   * `offeredId`: the id the engine gave a new task, taken when it is above every id so far (a
   * backend whose ids may have gaps); otherwise ids are dense, 1, 2, 3, ...
   */
  enqueue(spec: EnqueueSpec, now: number, payload: { readonly seq: number }, offeredId?: number): { task: ModelTask; created: boolean } {
    const existing = spec.key === null ? undefined : this.byKey(spec.key);
    if (existing !== undefined) return { task: existing, created: false };
    const id = offeredId !== undefined && offeredId >= this.#nextId ? offeredId : this.#nextId;
    this.#nextId = id + 1;
    const task: ModelTask = {
      id,
      type: spec.type,
      priority: spec.priority,
      maxAttempts: spec.maxAttempts,
      key: spec.key,
      payload,
      status: "queued",
      attempts: 0,
      runAfter: now + spec.delayMs,
      leaseUntil: null,
      token: null,
      lockedBy: null,
      cancelRequested: false,
      result: null,
      permanentFailure: false,
    };
    this.tasks.set(task.id, task);
    return { task, created: true };
  }

  /** A payload no earlier enqueue used, so a task's payload says which enqueue created it. */
  nextPayload(): { readonly seq: number } {
    return { seq: this.#seq++ };
  }

  /** Expired leases go back to the queue, to dead_letter (last attempt) or to cancelled (cancel pending). */
  recoverExpired(now: number): number[] {
    const recovered: number[] = [];
    for (const task of this.tasks.values()) {
      if (task.status !== "leased" || (task.leaseUntil ?? Number.POSITIVE_INFINITY) > now) continue;
      task.status = task.cancelRequested ? "cancelled" : task.attempts >= task.maxAttempts ? "dead_letter" : "queued";
      task.runAfter = now;
      clearLease(task);
      recovered.push(task.id);
    }
    return recovered;
  }

  /** The ids a claim of `limit` takes, in the strategy's order; marks them leased. */
  claim(slot: number, limit: number, strategy: "fifo" | "priority", now: number, token: string): number[] {
    if (this.paused.has("*")) return [];
    const candidates = [...this.tasks.values()]
      .filter((task) => task.status === "queued" && task.runAfter <= now && !this.paused.has(task.type))
      .sort((a, b) => (strategy === "priority" ? a.priority - b.priority : 0) || a.runAfter - b.runAfter || a.id - b.id)
      .slice(0, limit);
    for (const task of candidates) {
      task.status = "leased";
      task.attempts += 1;
      task.leaseUntil = now + MODEL_LEASE_MS;
      task.token = token;
      task.lockedBy = this.workerId(slot);
      task.cancelRequested = false;
    }
    return candidates.map((task) => task.id);
  }

  /** Whether `lease` is the task's current lease (the only one allowed to change it). */
  isCurrent(lease: ModelLease): boolean {
    const task = this.tasks.get(lease.taskId);
    return task !== undefined && task.status === "leased" && task.token === lease.token;
  }
}

export function clearLease(task: ModelTask): void {
  task.leaseUntil = null;
  task.token = null;
  task.lockedBy = null;
}

export const FINAL_STATUSES: readonly ModelStatus[] = ["completed", "dead_letter", "cancelled"];
