// A worker's tick and renewal on PostgreSQL: data in, data out, each one transaction.

import { randomUUID } from "node:crypto";
import {
  type ClaimLease,
  claimedTask,
  type ExtendResult,
  type Lease,
  type RenewRequest,
  type Task,
  type TickRequest,
  type TickResult,
  taskFromRow,
} from "@queue/core";
import type { Db } from "./db.js";
import { claimTasks } from "./sql/claim.js";
import { compileClaimOrder } from "./sql/claim-order.js";
import { completeLeased, releaseLeased, releaseOf, renewLeases } from "./sql/leases.js";
import { touchWorker } from "./sql/registry.js";
import { nextDueTime, recoverExpiredLeases } from "./sql/tasks.js";

export interface TickContext {
  readonly now: number;
  /** The store's write mark, read before the claim (see QueueStore.writeMark). */
  readonly writeMark: number;
}

/** What a tick did that calls for a wake-up of other workers: tasks put back in the queue now. */
export interface TickEffects {
  readonly requeued: boolean;
}

/**
 * Records finished attempts, then recovers expired leases and claims, in the caller's transaction.
 * Completions are one statement, failures one statement, recovery one, the claim one.
 */
export async function runTick(db: Db, request: TickRequest, context: TickContext): Promise<TickResult & TickEffects> {
  const { now } = context;
  const completed = await completeLeased(db, request.completions, now);
  const ended = await releaseLeased(
    db,
    request.failures.map(({ lease, failure }) => releaseOf(lease, failure, now)),
    now,
  );
  let requeued = request.failures.some(({ failure }, index) => ended[index] === "queued" && (failure.runAfter ?? now) <= now);
  const claim = request.claim;
  if (claim === undefined) return { now, completed, ended, discarded: 0, recovered: [], claimed: [], requeued };
  const recovered: Task[] = [];
  for (const row of claim.recover === false ? [] : await recoverExpiredLeases(db, now)) {
    if (row.status === "queued") requeued = true;
    try {
      recovered.push(taskFromRow(row));
    } catch {
      // Recovered all the same; only its report is skipped.
    }
  }
  const lease: ClaimLease = { token: claim.token ?? randomUUID(), workerId: claim.workerId, leaseUntil: now + claim.leaseMs, now };
  if (claim.limit < 1) return { now, completed, ended, discarded: 0, recovered, claimed: [], lease, requeued };
  const rows = await claimTasks(db, {
    order: compileClaimOrder(claim.order),
    filter: claim,
    now,
    limit: claim.limit,
    token: lease.token,
    workerId: claim.workerId,
    leaseUntil: lease.leaseUntil,
  });
  const claimed: Task[] = [];
  const undecodable: Lease[] = [];
  const reasons: string[] = [];
  for (const row of rows) {
    try {
      claimed.push(claimedTask(row, lease));
    } catch (error) {
      undecodable.push({ taskId: row[0], token: lease.token, workerId: claim.workerId });
      reasons.push(JSON.stringify({ name: "InvalidData", message: (error as Error).message }));
    }
  }
  if (undecodable.length > 0) {
    // A row another program wrote must not stop the queue: it is dead-lettered instead.
    await releaseLeased(
      db,
      undecodable.map((held, index) => ({
        lease: held,
        status: "dead_letter",
        error: reasons[index] ?? null,
        runAfter: now,
        refundAttempt: false,
      })),
      now,
    );
  }
  const short = claimed.length < claim.limit;
  return {
    now,
    completed,
    ended,
    discarded: undecodable.length,
    recovered,
    claimed,
    lease,
    ...(short ? { nextDue: await nextDueTime(db, now) } : {}),
    writeMark: context.writeMark,
    requeued,
  };
}

/** Notes the worker alive and extends its leases (if any), in the caller's transaction. */
export async function renewWorker(db: Db, request: RenewRequest, now: number): Promise<ExtendResult | undefined> {
  await touchWorker(db, request.workerId, now);
  if (request.leases.length === 0) return undefined;
  const byWorker = new Map<string, Lease[]>();
  for (const lease of request.leases) byWorker.set(lease.workerId, [...(byWorker.get(lease.workerId) ?? []), lease]);
  const held = new Map<number, { cancelRequested: boolean }>();
  // A task's current lease, by id and token: a stale lease of the same task (an earlier claim by
  // this worker that expired) is lost even when the current one is renewed beside it.
  const current = new Set<string>();
  for (const [workerId, group] of byWorker) {
    const tokens = [...new Set(group.map((lease) => lease.token))];
    for (const row of await renewLeases(db, workerId, tokens, now + request.leaseMs, now)) {
      if (group.some((lease) => lease.taskId === row.id && lease.token === row.lease_token)) {
        held.set(row.id, { cancelRequested: row.cancel_requested === 1 });
        current.add(`${row.id}:${row.lease_token}`);
      }
    }
  }
  const lostLeases = request.leases.filter((lease) => !current.has(`${lease.taskId}:${lease.token}`));
  return { held, lost: lostLeases.map((lease) => lease.taskId), lostLeases };
}
