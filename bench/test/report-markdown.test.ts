import { describe, expect, it } from "vitest";
import type { BenchResults, ThroughputResult } from "../src/report.js";
import { chartGroups } from "../src/report.js";
import { latencySection, mixedSection, renderMarkdown, scaleSection, throughputSection } from "../src/report-markdown.js";

const scenario: ThroughputResult = {
  title: "Processing",
  unit: "tasks/s",
  reference: "raw",
  comparisons: [
    { variant: "raw", opsPerSecond: { median: 40_000, min: 38_000, max: 41_000 }, ratio: 1 },
    { variant: "queue | 1 process", opsPerSecond: { median: 20_000, min: 19_000, max: 21_000 }, ratio: 0.5 },
    { variant: "peer", opsPerSecond: { median: 0, min: 0, max: 0 }, ratio: 0, notRun: "Redis is not reachable" },
  ],
  targets: [
    { variant: "queue | 1 process", atLeast: 0.5, baseline: "raw", ratio: 0.5, met: true },
    {
      variant: "queue | 1 process",
      atLeast: 1,
      of: "peer",
      baseline: "peer",
      ratio: 0,
      met: false,
      notEvaluated: "peer: not run: Redis is not reachable",
    },
    { variant: "queue | 1 process", atLeast: 5, of: "raw", baseline: "raw", ratio: 0.5, met: false },
  ],
  rss: {
    raw: { selfKiB: 100 * 1024, idleKiB: 90 * 1024, children: 0, childMaxKiB: 0 },
    "queue | 1 process": { selfKiB: 95 * 1024, idleKiB: 90 * 1024, children: 1, childMaxKiB: 80 * 1024 },
  },
};

describe("throughputSection", () => {
  it("has a row per variant with its peak RSS, a 'not run' row with the reason, and each target's verdict", () => {
    const text = throughputSection(scenario).join("\n");
    expect(text).toContain('| variant | tasks/s | ratio to "raw" | peak RSS |');
    expect(text).toContain("| raw | 40,000 (38,000-41,000) | 1.00x | 100 MiB (+10) |");
    expect(text).toContain("| queue \\| 1 process | 20,000 (19,000-21,000) | 0.50x | 95 MiB (+5) + 1 × 80 MiB |");
    expect(text).toContain("| peer | not run: Redis is not reachable | | |");
    expect(text).toContain("Target: queue | 1 process >= 0.5x the reference: 0.50x, met.");
    expect(text).toContain('Target: queue | 1 process >= 1x "peer": not judged (peer: not run: Redis is not reachable).');
    expect(text).toContain('Target: queue | 1 process >= 5x "raw": 0.50x, NOT met.');
  });
});

describe("throughputSection with our PostgreSQL backend", () => {
  const withPostgres: ThroughputResult = {
    title: "Batches",
    unit: "tasks/s",
    reference: "raw",
    comparisons: [
      { variant: "raw", opsPerSecond: { median: 100_000, min: 100_000, max: 100_000 }, ratio: 1 },
      { variant: "enqueueMany()", opsPerSecond: { median: 80_000, min: 80_000, max: 80_000 }, ratio: 0.8 },
      { variant: "PostgreSQL backend: enqueueMany()", opsPerSecond: { median: 20_000, min: 20_000, max: 20_000 }, ratio: 0.2 },
      { variant: "PostgreSQL backend: other", notRun: "PostgreSQL not reachable at 127.0.0.1:5432" },
    ],
    targets: [
      {
        variant: "PostgreSQL backend: enqueueMany()",
        atLeast: 1,
        ofBest: ["pg-boss", "graphile-worker"],
        baseline: "graphile-worker",
        ratio: 1.25,
        met: true,
      },
      {
        variant: "PostgreSQL backend: enqueueMany()",
        atLeast: 1,
        ofBest: ["pg-boss", "graphile-worker"],
        baseline: "pg-boss",
        ratio: 0,
        met: false,
        notEvaluated: "pg-boss is not in this run",
      },
    ],
    backends: [
      {
        sqlite: "enqueueMany()",
        postgres: "PostgreSQL backend: enqueueMany()",
        sqliteMedian: 80_000,
        postgresMedian: 20_000,
        ratio: 0.25,
      },
      {
        sqlite: "other",
        postgres: "PostgreSQL backend: other",
        sqliteMedian: 5_000,
        postgresNotRun: "PostgreSQL not reachable at 127.0.0.1:5432",
      },
    ],
    rss: {},
  };

  it("names the best of several baselines, and puts PostgreSQL beside SQLite for each operation", () => {
    const text = throughputSection(withPostgres).join("\n");
    expect(text).toContain("| PostgreSQL backend: other | not run: PostgreSQL not reachable at 127.0.0.1:5432 | | |");
    expect(text).toContain(
      'Target: PostgreSQL backend: enqueueMany() >= 1x the best of "pg-boss", "graphile-worker" (graphile-worker): 1.25x, met.',
    );
    expect(text).toContain(
      'Target: PostgreSQL backend: enqueueMany() >= 1x the best of "pg-boss", "graphile-worker": not judged (pg-boss is not in this run).',
    );
    expect(text).toContain("(PostgreSQL / SQLite: below 1x, PostgreSQL is slower)");
    expect(text).toContain("| operation | SQLite tasks/s | PostgreSQL tasks/s | PostgreSQL / SQLite |");
    expect(text).toContain("| enqueueMany() | 80,000 | 20,000 | 0.25x |");
    expect(text).toContain("| other | 5,000 | not run: PostgreSQL not reachable at 127.0.0.1:5432 |  |");
  });

  it("has no backend table where the scenario has no PostgreSQL twin", () => {
    expect(throughputSection(scenario).join("\n")).not.toContain("PostgreSQL / SQLite");
  });
});

describe("latencySection", () => {
  const figure = (variant: string, p50: number, target?: { p50AtMost: number; met: boolean }) => ({
    variant,
    tasks: 900,
    p50,
    p95: p50 * 2,
    p99: p50 * 3,
    max: p50 * 4,
    ...(target === undefined ? {} : { target }),
    rss: { selfKiB: 100 * 1024, children: 0, childMaxKiB: 0 },
  });
  const latency = {
    ratePerSecond: 200,
    seconds: 5,
    warmupTasks: 100,
    workerOptions: { concurrency: 1, pollIntervalMs: 100, leaseMs: 30_000, heartbeatMs: 5_000, strategy: "priority" },
  };

  it("shows a figure without a target with an empty target cell, and the p50 ratios of PostgreSQL to SQLite", () => {
    const text = latencySection({
      ...latency,
      figures: [
        figure("same", 0.5, { p50AtMost: 2, met: true }),
        figure("cross", 4, { p50AtMost: 50, met: true }),
        figure("PostgreSQL backend: same", 2),
        figure("PostgreSQL backend: cross", 6, { p50AtMost: 5, met: false }),
      ],
      backends: [
        { sqlite: "same", postgres: "PostgreSQL backend: same", sqliteMedian: 0.5, postgresMedian: 2, ratio: 4 },
        { sqlite: "cross", postgres: "PostgreSQL backend: cross", sqliteMedian: 4, postgresMedian: 6, ratio: 1.5 },
      ],
    }).join("\n");
    expect(text).toContain("| PostgreSQL backend: same | 900 | 2.00 ms | 4.00 ms | 6.00 ms | 8.00 ms |  | 100 MiB |");
    expect(text).toContain("| PostgreSQL backend: cross | 900 | 6.00 ms | 12.0 ms | 18.0 ms | 24.0 ms | p50 <= 5 ms: NOT met | 100 MiB |");
    expect(text).toContain("(PostgreSQL / SQLite: above 1x, PostgreSQL is slower)");
    expect(text).toContain("| operation | SQLite p50 | PostgreSQL p50 | PostgreSQL / SQLite |");
    expect(text).toContain("| cross | 4.00 ms | 6.00 ms | 1.50x |");
  });

  it("says why a variant did not run, and leaves its target not judged", () => {
    const text = latencySection({
      ...latency,
      figures: [
        figure("cross", 4, { p50AtMost: 50, met: true }),
        {
          variant: "PostgreSQL backend: cross",
          notRun: "PostgreSQL not reachable at 127.0.0.1:5432",
          target: { p50AtMost: 5, met: false },
        },
      ],
    }).join("\n");
    expect(text).toContain(
      "| PostgreSQL backend: cross | not run: PostgreSQL not reachable at 127.0.0.1:5432 | | | | | p50 <= 5 ms: not judged | |",
    );
    expect(text).not.toContain("PostgreSQL / SQLite");
  });
});

describe("mixedSection", () => {
  const base = {
    settings: { producers: 2, inFlight: 100, workers: 2, concurrency: 50, seconds: 10 },
    enqueued: 100_000,
    enqueuedPerSecond: 10_000,
    processed: 60_000,
    processedPerSecond: 6_000,
    backlog: 40_000,
    duplicates: 0,
    unrecorded: 0,
    lost: 0,
    errors: [],
    producerMaxRssKiB: 100 * 1024,
    workerMaxRssKiB: 120 * 1024,
  };

  it("reports rates, backlog and duplicates, and says so when nothing went wrong", () => {
    const text = mixedSection(base).join("\n");
    expect(text).toContain("| 10,000 | 6,000 | 40,000 | 0 | producers 2 × 100 MiB, workers 2 × 120 MiB |");
    expect(text).toContain("No task ran twice");
    expect(text).not.toContain("PROBLEM");
  });

  it("flags tasks that ran twice", () => {
    expect(mixedSection({ ...base, duplicates: 3 }).join("\n")).toContain("PROBLEM: 3 tasks ran twice");
  });
});

describe("scaleSection", () => {
  it("gives each size's figures and each figure's ratio to the smallest size, with the claim target", () => {
    const size = (rows: number, claim: number) => ({
      rows,
      buildSeconds: 1,
      claimMs: { median: claim, min: claim, max: claim },
      drainTasksPerSecond: { median: 8_000, min: 8_000, max: 8_000 },
      snapshotMs: { median: 2, min: 2, max: 2 },
      rss: { selfKiB: 100 * 1024, children: 0, childMaxKiB: 0 },
    });
    const text = scaleSection({
      settings: {
        sizes: [10_000, 100_000, 1_000_000],
        rounds: 5,
        claimBatch: 50,
        claimsPerRound: 20,
        drain: 10_000,
        drainConcurrency: 50,
        snapshotsPerRound: 4,
      },
      sizes: [size(10_000, 1), size(100_000, 1.5), size(1_000_000, 3)],
      slopes: [{ figure: "claim of 50 tasks (one transaction)", unit: "ms", values: [1, 1.5, 3], ratios: [1, 1.5, 3] }],
      target: { claimRatioAtMost: 2, ratio: 3, met: false },
      cleanup: [],
    }).join("\n");
    expect(text).toContain("| figure | 100,000 vs 10,000 | 1,000,000 vs 10,000 |");
    expect(text).toContain("| claim of 50 tasks (one transaction) (ms) | 1.50x | 3.00x |");
    expect(text).toContain("Target: claim latency at 1,000,000 within 2x of at 10,000: 3.00x, NOT met.");
    expect(text).toContain("| 1,000,000 | 3.00 (3.00-3.00) | 8,000 (8,000-8,000) | 2.00 (2.00-2.00) | 1.0 s | 100 MiB |");
  });
});

describe("renderMarkdown", () => {
  it("opens with the date, the machine, the settings and the RSS method, then the scenarios present", () => {
    const results: BenchResults = {
      date: "2026-01-02T03:04:05.000Z",
      machine: { cpu: "Test CPU", cores: 2, memoryGiB: 8, node: "v20.0.0", sqlite: "3.50.0", platform: "linux-x64" },
      quick: true,
      rounds: 2,
      peers: "sqlite",
      settings: {},
      rssMethod: "Peak RSS: measured somehow.",
      results: { process: scenario },
    };
    const text = renderMarkdown(results);
    expect(
      text.startsWith(
        "# Benchmark results\n\n2026-01-02T03:04:05.000Z on Test CPU (2 cores, 8 GiB, linux-x64), Node v20.0.0, SQLite 3.50.0.",
      ),
    ).toBe(true);
    expect(text).toContain("--quick");
    expect(text).toContain("--peers sqlite");
    expect(text).toContain("Peak RSS: measured somehow.");
    expect(text).toContain("## Processing");
    expect(text).not.toContain("## Latency");
  });
});

describe("chartGroups", () => {
  it("makes the reference grey, peers a colour of their own, and keeps the reason of a variant not run", () => {
    const [group] = chartGroups({ process: scenario }, (variant) => variant === "peer");
    expect(group?.bars.map((bar) => bar.kind)).toEqual(["reference", "queue", "peer"]);
    expect(group?.bars[2]?.notRun).toBe("Redis is not reachable");
    expect(group?.bars[1]).toMatchObject({ value: 20_000, ratio: 0.5 });
  });
});
