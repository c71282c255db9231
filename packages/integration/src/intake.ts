import { QueueError } from "@queue/core";

/** What happens to a new run while intake is paused: refused at once, or held until resumed. */
export type PausedIntakeMode = "reject" | "hold";

export const PAUSED_INTAKE_MODES: readonly PausedIntakeMode[] = Object.freeze(["reject", "hold"]);

export interface PauseIntakeOptions {
  /** Overrides the manager's configured mode for this pause. */
  readonly mode?: PausedIntakeMode;
  /** Shown in the error new runs get, e.g. "deploy 2026-11-22". */
  readonly reason?: string;
}

export interface IntakeState {
  readonly paused: boolean;
  readonly mode: PausedIntakeMode;
  readonly reason?: string;
  /** Runs waiting for resume (mode "hold"). */
  readonly held: number;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: QueueError) => void;
}

/**
 * Maintenance mode for a task manager. While paused, new runs are refused with a retryable
 * `PAUSED` error or held until `resume()`; runs already accepted keep going, so they can drain.
 */
export class IntakeGate {
  readonly #defaultMode: PausedIntakeMode;
  #pause: { readonly mode: PausedIntakeMode; readonly reason: string | undefined } | undefined;
  #waiters: Waiter[] = [];

  constructor(defaultMode: PausedIntakeMode = "reject") {
    if (!PAUSED_INTAKE_MODES.includes(defaultMode)) {
      throw new QueueError("INVALID_CONFIG", `Invalid paused intake mode ${JSON.stringify(defaultMode)}; expected "reject" or "hold".`);
    }
    this.#defaultMode = defaultMode;
  }

  pause(options: PauseIntakeOptions = {}): void {
    const mode = options.mode ?? this.#defaultMode;
    if (!PAUSED_INTAKE_MODES.includes(mode)) {
      throw new QueueError("INVALID_ARGUMENT", `Invalid paused intake mode ${JSON.stringify(mode)}; expected "reject" or "hold".`);
    }
    this.#pause = { mode, reason: options.reason };
    // Runs held under an earlier "hold" pause are refused if the new pause rejects.
    if (mode === "reject") this.#release((waiter) => waiter.reject(this.#refusal()));
  }

  resume(): void {
    this.#pause = undefined;
    this.#release((waiter) => waiter.resolve());
  }

  /** Refuses every held run: the manager is closing. */
  close(): void {
    this.#release((waiter) =>
      waiter.reject(new QueueError("CLOSED", "The task manager closed while the run was held by paused intake; start it again.")),
    );
  }

  state(): IntakeState {
    return {
      paused: this.#pause !== undefined,
      mode: this.#pause?.mode ?? this.#defaultMode,
      ...(this.#pause?.reason === undefined ? {} : { reason: this.#pause.reason }),
      held: this.#waiters.length,
    };
  }

  /** True while paused: a new run must go through admit(). */
  get paused(): boolean {
    return this.#pause !== undefined;
  }

  /** Resolves when a new run may start: at once when open, after resume when holding; throws when rejecting. */
  admit(): Promise<void> {
    if (this.#pause === undefined) return Promise.resolve();
    if (this.#pause.mode === "reject") return Promise.reject(this.#refusal());
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #refusal(): QueueError {
    const reason = this.#pause?.reason;
    return new QueueError(
      "PAUSED",
      `Intake is paused${reason === undefined ? "" : ` (${reason})`}: no new runs are accepted. Retry after resumeIntake().`,
      { details: { retryable: true, ...(reason === undefined ? {} : { reason }) } },
    );
  }

  #release(settle: (waiter: Waiter) => void): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) settle(waiter);
  }
}
