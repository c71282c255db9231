import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TASK_STATUSES, TestClock } from "@queue/core";
import { FINAL_RUN_STATUSES, isFinal, isoTime, RunRegistry, runStatusOf } from "@queue/integration";
import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

const run = (id: string, status: "queued" | "running" | "completed" | "failed" | "cancelled", extra = {}) => ({
  id,
  moduleId: id.startsWith("a") ? "alpha" : "beta",
  parameters: {},
  status,
  createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, Number(id.slice(1)))).toISOString(),
  ...extra,
});

describe("RunRegistry", () => {
  it("answers by id, activity, module, status and recency", () => {
    const registry = new RunRegistry();
    registry.add(run("a1", "completed"));
    registry.add(run("a2", "running"));
    registry.add(run("b3", "queued"));
    expect(
      registry
        .active()
        .map((r) => r.id)
        .sort(),
    ).toEqual(["a2", "b3"]);
    expect(
      registry
        .byModule("alpha")
        .map((r) => r.id)
        .sort(),
    ).toEqual(["a1", "a2"]);
    expect(registry.byStatus("queued").map((r) => r.id)).toEqual(["b3"]);
    expect(registry.recent(2).map((r) => r.id)).toEqual(["b3", "a2"]);
    expect(registry.update("b3", { status: "running" }).status).toBe("running");
    expect(() => registry.add(run("a1", "queued"))).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => registry.update("zz", {})).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
  });

  it("keeps a copy of the run it is given, or the run itself when it is frozen", () => {
    const registry = new RunRegistry();
    const open = run("a1", "queued");
    const kept = registry.add(open);
    expect(kept).not.toBe(open);
    expect(Object.isFrozen(kept)).toBe(true);
    (open as { status: string }).status = "failed";
    expect(registry.get("a1")?.status).toBe("queued");
    const frozen = Object.freeze(run("a2", "queued"));
    expect(registry.add(frozen)).toBe(frozen);
    expect(registry.get("a2")).toBe(frozen);
  });

  it("keeps a run's prototype whatever keys its request carries (a __proto__ key from JSON chooses nothing)", () => {
    const registry = new RunRegistry();
    const hostile = JSON.parse(
      '{"id":"h1","moduleId":"alpha","parameters":{},"status":"queued","createdAt":"2030-01-01T00:00:00.000Z","__proto__":{"scheduledFor":"2999-01-01T00:00:00Z"}}',
    );
    const added = registry.add(hostile);
    expect(Object.getPrototypeOf(added)).toBe(Object.prototype);
    expect(added.scheduledFor).toBeUndefined();
    const updated = registry.update("h1", JSON.parse('{"status":"running","__proto__":{"exitCode":7}}'));
    expect(Object.getPrototypeOf(updated)).toBe(Object.prototype);
    expect(updated).toMatchObject({ status: "running" });
    expect(updated.exitCode).toBeUndefined();
  });

  it("persists the history atomically and loads it again", async () => {
    const file = join(makeTempDir(), "runs.json");
    const registry = new RunRegistry({ file });
    registry.add(run("a1", "running"));
    registry.update("a1", { status: "completed", exitCode: 0 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(JSON.parse(readFileSync(file, "utf8")).runs).toEqual([expect.objectContaining({ id: "a1", status: "completed", exitCode: 0 })]);
    expect(existsSync(`${file}.tmp-${process.pid}`)).toBe(false);
    expect(new RunRegistry({ file }).get("a1")).toMatchObject({ status: "completed" });
  });

  it("keeps a corrupt history file aside, reports it, and starts afresh", async () => {
    const file = join(makeTempDir(), "runs.json");
    writeFileSync(file, "{ this is not json");
    const registry = new RunRegistry({ file, clock: new TestClock(1234) });
    const warning = await new Promise<string>((resolve) => registry.on("warning", (message) => resolve(message)));
    expect(registry.corruptFileKeptAt).toBe(`${file}.corrupt-1234`);
    expect(readFileSync(`${file}.corrupt-1234`, "utf8")).toBe("{ this is not json");
    expect(warning).toContain("kept at");
    expect(registry.all()).toEqual([]);
  });

  it("forgets finished runs older than the retention", () => {
    const clock = new TestClock(Date.UTC(2030, 0, 10));
    const registry = new RunRegistry({ clock });
    registry.add(run("a1", "completed", { finishedAt: new Date(Date.UTC(2030, 0, 1)).toISOString() }));
    registry.add(run("a2", "completed", { finishedAt: new Date(Date.UTC(2030, 0, 9, 12)).toISOString() }));
    registry.add(run("a3", "running"));
    expect(registry.cleanup(86_400_000)).toBe(1);
    expect(
      registry
        .all()
        .map((r) => r.id)
        .sort(),
    ).toEqual(["a2", "a3"]);
  });
});

describe("runStatusOf", () => {
  it("maps every task status to a run status", () => {
    expect(TASK_STATUSES.map(runStatusOf)).toEqual(["queued", "running", "completed", "failed", "cancelled"]);
  });
});

describe("isFinal", () => {
  it("is true exactly for FINAL_RUN_STATUSES", () => {
    const statuses = TASK_STATUSES.map(runStatusOf);
    expect(statuses.filter(isFinal)).toEqual([...FINAL_RUN_STATUSES]);
  });
});

describe("isoTime", () => {
  it("formats like toISOString, for the same millisecond twice and for a different one after", () => {
    for (const ms of [0, 1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_124, -1]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });
});
