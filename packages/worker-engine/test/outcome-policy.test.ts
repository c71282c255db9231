import type { Task } from "@queue/core";
import { describe, expect, it } from "vitest";
import type { AbortReason, Attempt } from "../src/attempt.js";
import { markPermanent } from "../src/errors.js";
import {
  aborted,
  cancelledBeforeStart,
  failed,
  type OutcomePolicy,
  released,
  succeeded,
  undecidable,
  unknownType,
} from "../src/outcome-policy.js";

const NOW = Date.UTC(2030, 0, 1);
const policy: OutcomePolicy = { backoff: { initialDelayMs: 1_000, factor: 2, maxDelayMs: 60_000, jitter: 0.5 }, maxResultBytes: 64 };
const noJitter = () => 0;

function attempt(fields: Partial<Pick<Task, "attempts" | "maxAttempts" | "type">> = {}, reason?: AbortReason): Attempt {
  const task = { id: 7, type: "email", attempts: 1, maxAttempts: 3, ...fields } as Task;
  return { task, lease: { taskId: 7, token: "token", workerId: "worker" }, ...(reason === undefined ? {} : { reason }) };
}

describe("the outcome policy", () => {
  it("completes an attempt whose handler returned, storing the value as JSON (undefined as null)", () => {
    const value = { sent: 2 };
    expect(succeeded(attempt(), value, policy)).toMatchObject({ kind: "complete", result: '{"sent":2}', value });
    expect(succeeded(attempt(), undefined, policy)).toMatchObject({ kind: "complete", result: "null" });
  });

  it("dead-letters an attempt whose result is too large to store", () => {
    const outcome = succeeded(attempt(), "x".repeat(100), policy);
    expect(outcome.kind).toBe("fail");
    if (outcome.kind !== "fail") return;
    expect(outcome.failure.outcome).toBe("dead_letter");
    expect(JSON.parse(outcome.failure.error ?? "null")).toEqual(outcome.error);
  });

  it("retries a failure while attempts are left, after the backoff of that attempt", () => {
    const first = failed(attempt({ attempts: 1 }), new Error("smtp down"), NOW, policy, noJitter);
    const second = failed(attempt({ attempts: 2 }), new Error("smtp down"), NOW, policy, noJitter);
    expect(first).toMatchObject({ kind: "fail", failure: { outcome: "retry", runAfter: NOW + 1_000 }, error: { message: "smtp down" } });
    expect(second).toMatchObject({ failure: { outcome: "retry", runAfter: NOW + 2_000 } });
  });

  it("applies the jitter it is given, and never waits longer than the cap", () => {
    const jittered = failed(attempt({ attempts: 1 }), new Error("x"), NOW, policy, () => 1);
    expect(jittered).toMatchObject({ failure: { runAfter: NOW + 500 } });
    const capped = failed(attempt({ attempts: 20, maxAttempts: 30 }), new Error("x"), NOW, policy, noJitter);
    expect(capped).toMatchObject({ failure: { runAfter: NOW + 60_000 } });
  });

  it("dead-letters the last attempt, and a permanent error at any attempt", () => {
    expect(failed(attempt({ attempts: 3 }), new Error("x"), NOW, policy)).toMatchObject({ failure: { outcome: "dead_letter" } });
    const permanent = failed(attempt({ attempts: 1 }), markPermanent(new Error("bad address")), NOW, policy);
    expect(permanent).toMatchObject({ failure: { outcome: "dead_letter" }, error: { message: "bad address" } });
  });

  it("describes a thrown non-Error value", () => {
    expect(failed(attempt({ attempts: 3 }), "boom", NOW, policy)).toMatchObject({ error: { name: "NonError", message: "boom" } });
  });

  it("decides an aborted attempt by why it was aborted", () => {
    const timeout = new Error("too slow");
    expect(aborted(attempt({}, "cancel"), timeout, NOW, policy)).toMatchObject({
      failure: { outcome: "cancelled" },
      error: { name: "Cancelled", message: "The task was cancelled while running." },
    });
    expect(aborted(attempt({}, "timeout"), timeout, NOW, policy, noJitter)).toMatchObject({
      failure: { outcome: "retry", runAfter: NOW + 1_000 },
      error: { message: "too slow" },
    });
    expect(aborted(attempt({ attempts: 3 }, "timeout"), timeout, NOW, policy)).toMatchObject({ failure: { outcome: "dead_letter" } });
    expect(aborted(attempt({}, "shutdown"), timeout, NOW, policy)).toMatchObject({
      failure: { outcome: "release", error: null },
      error: null,
    });
    expect(aborted(attempt({}, "lease-lost"), timeout, NOW, policy)).toBeUndefined();
  });

  it("releases, cancels before start, and dead-letters unknown types and undecidable outcomes", () => {
    expect(released(attempt())).toMatchObject({ failure: { outcome: "release", error: null }, error: null });
    expect(cancelledBeforeStart(attempt())).toMatchObject({
      failure: { outcome: "cancelled" },
      error: { message: "The task was cancelled before it started." },
    });
    expect(unknownType(attempt({ type: "fax" }), "w1")).toMatchObject({
      failure: { outcome: "dead_letter" },
      error: { name: "UnknownTaskType", message: expect.stringContaining('"fax" on worker w1') },
    });
    expect(undecidable(attempt(), new Error("cyclic"))).toMatchObject({
      failure: { outcome: "dead_letter" },
      error: { name: "OutcomeError", message: "The outcome of task 7 could not be recorded: cyclic" },
    });
  });

  it("keeps the attempt on its outcome, so the completer can reach its lease", () => {
    const subject = attempt();
    expect(succeeded(subject, 1, policy).attempt).toBe(subject);
    expect(failed(subject, new Error("x"), NOW, policy).attempt).toBe(subject);
  });
});
