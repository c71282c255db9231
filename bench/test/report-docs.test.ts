import { describe, expect, it } from "vitest";
import type { BenchResults } from "../src/report.js";
import { LATEST_RUN_BEGIN, LATEST_RUN_END, latestRunBlock, targetRows, withLatestRun } from "../src/report-docs.js";

const results: BenchResults = {
  date: "2026-01-02T03:04:05.000Z",
  machine: { cpu: "Test CPU", cores: 2, memoryGiB: 8, node: "v20.0.0", sqlite: "3.50.0", platform: "linux-x64" },
  quick: false,
  rounds: 5,
  peers: "all",
  settings: {},
  rssMethod: "",
  results: {
    process: {
      title: "Processing",
      unit: "tasks/s",
      reference: "raw",
      comparisons: [],
      targets: [
        { variant: "1 process", atLeast: 0.5, baseline: "raw", ratio: 0.54, met: true },
        {
          variant: "1 process",
          atLeast: 1,
          of: "BullMQ",
          baseline: "BullMQ",
          ratio: 0,
          met: false,
          notEvaluated: "BullMQ: not run: no Redis",
        },
        {
          variant: "PostgreSQL backend: 1 process",
          atLeast: 3,
          ofBest: ["pg-boss", "graphile-worker"],
          baseline: "graphile-worker",
          ratio: 8.5,
          met: true,
        },
      ],
      rss: {},
    },
  },
  latency: {
    ratePerSecond: 200,
    seconds: 5,
    warmupTasks: 100,
    workerOptions: { concurrency: 1, pollIntervalMs: 100, leaseMs: 30_000, heartbeatMs: 5_000, strategy: "priority" },
    figures: [
      {
        variant: "same process",
        tasks: 900,
        p50: 0.7,
        p95: 2,
        p99: 8,
        max: 20,
        target: { p50AtMost: 2, met: true },
        rss: { selfKiB: 1, children: 0, childMaxKiB: 0 },
      },
      {
        variant: "PostgreSQL backend: same process",
        tasks: 900,
        p50: 3,
        p95: 6,
        p99: 9,
        max: 20,
        rss: { selfKiB: 1, children: 0, childMaxKiB: 0 },
      },
      {
        variant: "PostgreSQL backend: cross-process",
        notRun: "PostgreSQL not reachable at 127.0.0.1:5432",
        target: { p50AtMost: 5, met: false },
      },
    ],
  },
};

describe("targetRows", () => {
  it("lists every target with its measured ratio or latency and its verdict", () => {
    expect(targetRows(results)).toEqual([
      ['Processing: "1 process" >= 0.5x "raw"', "0.54x", "met"],
      ['Processing: "1 process" >= 1x "BullMQ"', "-", "not judged: BullMQ: not run: no Redis"],
      ['Processing: "PostgreSQL backend: 1 process" >= 3x the best of "pg-boss", "graphile-worker" (graphile-worker)', "8.50x", "met"],
      ["Latency, same process: p50 <= 2 ms", "0.70 ms", "met"],
      ["Latency, PostgreSQL backend: cross-process: p50 <= 5 ms", "-", "not judged: not run: PostgreSQL not reachable at 127.0.0.1:5432"],
    ]);
  });
});

describe("latestRunBlock", () => {
  it("names the date and machine, embeds the chart, and says which scenarios the run lacks", () => {
    const block = latestRunBlock(results);
    expect(block.startsWith(LATEST_RUN_BEGIN)).toBe(true);
    expect(block.endsWith(LATEST_RUN_END)).toBe(true);
    expect(block).toContain(
      "Run of 2026-01-02 (2026-01-02T03:04:05.000Z) on Test CPU (2 cores, 8 GiB, linux-x64), Node v20.0.0, SQLite 3.50.0; 5 rounds, --peers all.",
    );
    expect(block).toContain("](../bench/results/latest.svg)");
    expect(block).toContain("Not in this run: mixed, scale.");
    expect(block).toContain('| Processing: "1 process" >= 0.5x "raw" | 0.54x | met |');
  });
});

describe("withLatestRun", () => {
  it("replaces what is between the markers and keeps the rest of the page", () => {
    const page = `# Title\n\n${LATEST_RUN_BEGIN}\nold\n${LATEST_RUN_END}\n\n## After\n`;
    const updated = withLatestRun(page, `${LATEST_RUN_BEGIN}\nnew\n${LATEST_RUN_END}`);
    expect(updated).toBe(`# Title\n\n${LATEST_RUN_BEGIN}\nnew\n${LATEST_RUN_END}\n\n## After\n`);
  });

  it("refuses a page without the markers", () => {
    expect(() => withLatestRun("# Title\n", "block")).toThrow("no latest-run markers");
  });
});
