import { localWorkerCount, localWorkerWaiting, notifyLocalWorkers, onLocalWork } from "@queue/core";
import { describe, expect, it } from "vitest";

describe("local wake-ups", () => {
  it("call every worker listening on the path, and only those", () => {
    const calls: string[] = [];
    const offA = onLocalWork("/q/a.db", () => calls.push("a"));
    const offB = onLocalWork("/q/b.db", () => calls.push("b"));
    expect(localWorkerCount("/q/a.db")).toBe(1);
    notifyLocalWorkers("/q/a.db");
    expect(calls).toEqual(["a"]);
    offA();
    offB();
    expect(localWorkerCount("/q/a.db")).toBe(0);
    notifyLocalWorkers("/q/a.db");
    expect(calls).toEqual(["a"]);
  });

  it("tell producers whether any worker on the path waits for work", () => {
    const path = "/q/waiting.db";
    expect(localWorkerWaiting(path)).toBe(false);
    let busyWaiting = false;
    const offBusy = onLocalWork(
      path,
      () => undefined,
      () => busyWaiting,
    );
    const offSilent = onLocalWork(path, () => undefined);
    const offBroken = onLocalWork(
      path,
      () => undefined,
      () => {
        throw new Error("no report");
      },
    );
    // No worker says it waits: one is busy, one does not report, one fails to report.
    expect(localWorkerWaiting(path)).toBe(false);
    busyWaiting = true;
    expect(localWorkerWaiting(path)).toBe(true);
    offBusy();
    expect(localWorkerWaiting(path)).toBe(false);
    offSilent();
    offBroken();
    expect(localWorkerCount(path)).toBe(0);
  });
});
