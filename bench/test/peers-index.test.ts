import { describe, expect, it } from "vitest";
import { isNotRun } from "../src/measure.js";
import { peerVariants } from "../src/peers/index.js";
import { SCENARIOS } from "../src/scenarios.js";

const SQLITE_PEERS = /^(plainjob|liteque|Sidequest)\b/;

describe("peer variants", () => {
  it("follow --peers: none, the SQLite peers, or all of them", () => {
    expect(peerVariants("process", 1, "none")).toEqual({});
    const sqlite = Object.keys(peerVariants("enqueue", 0.1, "sqlite"));
    expect(sqlite.length).toBeGreaterThan(0);
    expect(sqlite.filter((name) => !SQLITE_PEERS.test(name))).toEqual([]);
    const all = Object.keys(peerVariants("enqueue-many", 1, "all"));
    for (const peer of ["plainjob", "liteque", "Sidequest", "BullMQ", "pg-boss", "graphile-worker"])
      expect(all.some((name) => name.startsWith(peer))).toBe(true);
  });

  it("name, in every target, variants that the scenario holds", () => {
    for (const scenario of SCENARIOS) {
      const names = Object.keys(scenario.variants(0.1));
      for (const target of scenario.targets) {
        expect(names).toContain(target.variant);
        if (target.of !== undefined) expect(names).toContain(target.of);
        for (const name of target.ofBest ?? []) expect(names).toContain(name);
      }
      for (const pair of scenario.backends ?? []) expect(names).toEqual(expect.arrayContaining([pair.sqlite, pair.postgres]));
    }
  });

  it("leave our PostgreSQL variants in with --peers none", () => {
    const saved = process.argv;
    process.argv = [...saved, "--peers=none"];
    let names: string[];
    try {
      names = SCENARIOS.flatMap((scenario) => Object.keys(scenario.variants(0.1)));
    } finally {
      process.argv = saved;
    }
    expect(names).toContain("PostgreSQL backend: 1 worker process, concurrency 50");
    expect(names).toContain("PostgreSQL backend: enqueueMany(), 1,000 per call");
    expect(names.filter((name) => /^(plainjob|liteque|Sidequest|BullMQ|pg-boss|graphile-worker)\b/.test(name))).toEqual([]);
  });

  it("report Sidequest as not run, saying why", async () => {
    const run = peerVariants("process", 0.1, "sqlite")["Sidequest, SQLite backend"];
    const error = await Promise.resolve(run?.("unused.db")).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(isNotRun(error)).toBe(true);
    expect((error as { reason: string }).reason).toMatch(/^cannot be installed: .*; loading sidequest: ERR_MODULE_NOT_FOUND$/);
  });

  it("report liteque's missing bulk API as not run", async () => {
    const run = peerVariants("enqueue-many", 0.1, "sqlite")["liteque: batches"];
    await expect(Promise.resolve(run?.("unused.db"))).rejects.toMatchObject({
      name: "NotRun",
      reason: "no bulk API (only enqueue() of one job)",
    });
  });
});
