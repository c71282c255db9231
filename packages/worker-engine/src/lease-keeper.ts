// Keeps the worker's leases: one transaction at every heartbeat renews every lease it holds
// (running, claimed ahead, decided but not yet recorded) and notes the worker alive; a lease found
// lost, or a cancel requested, reaches the attempt it belongs to.
import type { QueueStore } from "@queue/core";
import type { Completer } from "./completer.js";
import type { Executor } from "./executor.js";
import type { Lease } from "./leases.js";
import { cancelledBeforeStart } from "./outcome-policy.js";
import type { Prefetch } from "./prefetch.js";
import { type Report, reportLeaseLost } from "./report.js";
import type { Wake } from "./wake.js";

export interface LeaseKeeperSettings {
  readonly workerId: string;
  readonly leaseMs: number;
  readonly heartbeatMs: number;
  readonly store: QueueStore;
  readonly report: Report;
  readonly executor: Executor;
  readonly completer: Completer;
  readonly prefetch: Prefetch;
  readonly wake: Wake;
}

export class LeaseKeeper {
  readonly #settings: LeaseKeeperSettings;
  #heartbeat?: NodeJS.Timeout;

  constructor(settings: LeaseKeeperSettings) {
    this.#settings = settings;
  }

  start(): void {
    this.#heartbeat = setInterval(() => void this.renew(), this.#settings.heartbeatMs);
  }

  stop(): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = undefined;
  }

  /** One transaction renews every lease this worker holds; lost leases and pending cancels abort their handlers. */
  async renew(): Promise<void> {
    if (this.#heartbeat === undefined) return;
    const { workerId, leaseMs, store, report, executor, completer, prefetch, wake } = this.#settings;
    const leases: Lease[] = [];
    for (const attempt of executor.running.values()) if (!attempt.settled) leases.push(attempt.lease);
    completer.collectLeases(leases);
    prefetch.collectLeases(leases);
    try {
      const result = await store.renewLeases({ workerId, leases, leaseMs });
      if (result === undefined) return;
      // Leases are matched by token: a stale lease of a task this worker has since claimed again
      // must not touch the current attempt.
      const lost = new Set(result.lostLeases.map((lease) => `${lease.taskId}:${lease.token}`));
      const isLost = (lease: Lease) => lost.has(`${lease.taskId}:${lease.token}`);
      for (const lease of result.lostLeases) {
        const attempt = executor.running.get(lease.taskId);
        if (attempt !== undefined && attempt.lease.token === lease.token) executor.abort(attempt, "lease-lost");
      }
      for (const [taskId, state] of result.held) {
        const attempt = executor.running.get(taskId);
        if (attempt !== undefined && state.cancelRequested && !isLost(attempt.lease)) executor.abort(attempt, "cancel");
      }
      // Tasks claimed ahead, not started yet: a lost one is dropped, a cancelled one is recorded as such.
      prefetch.retain(({ task, lease }) => {
        if (isLost(lease)) {
          reportLeaseLost(report, task);
          return false;
        }
        if (!result.held.get(task.id)?.cancelRequested) return true;
        completer.add(cancelledBeforeStart({ task, lease }));
        wake.signal();
        return false;
      });
    } catch (error) {
      report.emit("error", error);
    }
  }
}
