// Collects the outcomes decided since the last tick, hands them to the next tick's transaction,
// and reports what that transaction recorded (events and stats) once it committed.
import type { Task, TaskStatus, TickRequest, TickResult } from "@queue/core";
import type { Attempt } from "./attempt.js";
import type { Lease } from "./leases.js";
import type { Outcome } from "./outcome-policy.js";
import { type Report, reportLeaseLost } from "./report.js";
import type { WorkWatch } from "./work-watch.js";

const NONE: readonly Outcome[] = Object.freeze([]);

export class Completer {
  #outcomes: Outcome[] = [];
  /** When the oldest unrecorded outcome was decided (performance.now()). */
  #since = 0;
  readonly #report: Report;
  readonly #watch: WorkWatch;

  constructor(report: Report, watch: WorkWatch) {
    this.#report = report;
    this.#watch = watch;
  }

  /** How many outcomes wait for a tick. */
  get pending(): number {
    return this.#outcomes.length;
  }

  /** How long the oldest waiting outcome has waited, in ms (undefined if none waits). */
  waitedMs(now: number): number | undefined {
    return this.#outcomes.length === 0 ? undefined : now - this.#since;
  }

  /** Marks the attempt settled and keeps its outcome for the next tick's transaction. */
  add(outcome: Outcome): void {
    outcome.attempt.settled = true;
    if (this.#outcomes.length === 0) this.#since = performance.now();
    this.#outcomes.push(outcome);
  }

  /** The waiting outcomes' leases, appended to `leases` (they are renewed until recorded). */
  collectLeases(leases: Lease[]): void {
    for (const outcome of this.#outcomes) leases.push(outcome.attempt.lease);
  }

  /** Takes the waiting outcomes for a tick (all of them, or none): outcomes decided while it commits wait for the next. */
  take(all: boolean): readonly Outcome[] {
    if (!all) return NONE;
    const outcomes = this.#outcomes;
    this.#outcomes = [];
    return outcomes;
  }

  /** A tick that failed gives its outcomes back, ahead of those decided since. */
  giveBack(outcomes: readonly Outcome[]): void {
    this.#outcomes = outcomes.concat(this.#outcomes);
  }

  /** The tick that records `outcomes`, then makes `claim` if there is one. */
  request(outcomes: readonly Outcome[], claim: TickRequest["claim"]): TickRequest {
    const completions: TickRequest["completions"][number][] = [];
    const failures: TickRequest["failures"][number][] = [];
    for (const outcome of outcomes) {
      if (outcome.kind === "complete") completions.push({ lease: outcome.attempt.lease, result: outcome.result });
      else failures.push({ lease: outcome.attempt.lease, failure: outcome.failure });
    }
    return claim === undefined ? { completions, failures } : { completions, failures, claim };
  }

  /**
   * The events of outcomes the tick wrote, to emit after it committed. An outcome whose lease was
   * lost changed nothing and reports it.
   */
  events(outcomes: readonly Outcome[], result: TickResult): (() => void)[] {
    const events: (() => void)[] = [];
    const { now, completed } = result;
    const report = this.#report;
    // Successes first, then failures, each in the order they were decided.
    for (const outcome of outcomes) {
      if (outcome.kind !== "complete") continue;
      const { attempt } = outcome;
      if (!completed.has(attempt.task.id)) {
        events.push(() => reportLeaseLost(report, attempt.task));
        continue;
      }
      events.push(() => {
        report.stats.completed += 1;
        // The snapshot for listeners is built only if there are any.
        if (report.listenerCount("completed") > 0) report.emit("completed", finalSnapshot(attempt, outcome, now), outcome.value);
        if (report.listenerCount("recorded") > 0)
          report.emit("recorded", attempt.task, { status: "completed", at: now, result: outcome.value });
      });
    }
    let failure = 0;
    for (const outcome of outcomes) {
      if (outcome.kind !== "fail") continue;
      const ended = result.ended[failure++];
      const { task } = outcome.attempt;
      events.push(ended === null || ended === undefined ? () => reportLeaseLost(report, task) : this.#failureEvent(outcome, ended, now));
      // A retry or a release puts the task back in the queue.
      if (outcome.failure.outcome === "retry" || outcome.failure.outcome === "release") this.#watch.mayHaveWork = true;
    }
    return events;
  }

  #failureEvent(outcome: Extract<Outcome, { kind: "fail" }>, ended: TaskStatus, now: number): () => void {
    const { attempt, error } = outcome;
    const report = this.#report;
    const { stats } = report;
    const reportOutcome = () => {
      const task = finalSnapshot(attempt, outcome, now, ended);
      if (ended === "cancelled") {
        // Either the failure was a cancel, or a cancel arrived before a retry or release.
        stats.cancelled += 1;
        report.emit("cancelled", task);
        return;
      }
      switch (outcome.failure.outcome) {
        case "retry":
          stats.failed += 1;
          stats.retried += 1;
          if (error !== null) report.emit("failed", task, error, task.runAfter);
          report.emit("retried", task);
          break;
        case "dead_letter":
          stats.failed += 1;
          stats.deadLettered += 1;
          if (error !== null) {
            report.emit("failed", task, error, null);
            report.emit("dead-lettered", task, error);
          }
          break;
        default:
          break;
      }
    };
    return () => {
      reportOutcome();
      if (report.listenerCount("recorded") > 0) report.emit("recorded", attempt.task, { status: ended, at: now, error });
    };
  }
}

/** The task as the outcome left it, for events, built without reading the row back. */
function finalSnapshot(attempt: Attempt, outcome: Outcome, now: number, ended?: TaskStatus): Task {
  const base = attempt.task;
  const at = new Date(now);
  const cleared = { leaseUntil: null, lockedBy: null, cancelRequested: false, updatedAt: at };
  if (outcome.kind === "complete") {
    const result = outcome.value === undefined ? null : outcome.value;
    return Object.freeze({
      ...base,
      ...cleared,
      status: "completed",
      result,
      progress: attempt.progress ?? base.progress ?? 1,
      finishedAt: at,
    });
  }
  const { failure } = outcome;
  const status = ended ?? (failure.outcome === "retry" || failure.outcome === "release" ? "queued" : failure.outcome);
  return Object.freeze({
    ...base,
    ...cleared,
    status,
    error: outcome.error ?? base.error,
    runAfter: new Date(failure.runAfter ?? now),
    attempts: base.attempts - (failure.outcome === "release" ? 1 : 0),
    progress: attempt.progress ?? base.progress,
    finishedAt: status === "queued" ? null : at,
  });
}
