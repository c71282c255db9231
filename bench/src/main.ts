// `pnpm bench`: every scenario, each variant beside its reference in the same run on the same file
// system; writes bench/results/latest.{md,json,svg} and the latest-run part of docs/benchmarks.md
// (quick.* with --quick, scenario-NAME.* with --scenario, and the page left alone).
// Options: --quick (smaller sizes, shorter runs, two rounds: a smoke run), --scenario NAME,
// --rounds N, --peers none|sqlite|all (see peers/options.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type LatencyResult, measureLatency } from "./latency.js";
import { backendRatios, type Comparison, compare, comparisonMedians, evaluateTargets } from "./measure.js";
import { type MixedResult, type MixedSettings, measureMixed } from "./mixed.js";
import { measureScale, type ScaleResult, type ScaleSettings } from "./operations.js";
import { currentBuild, missingCompiledPackages, shareBuild } from "./packages.js";
import { type PeerScenario, peerVariants } from "./peers/index.js";
import { peersFromArgv } from "./peers/options.js";
import { type BenchResults, renderResultsChart, type ThroughputResult } from "./report.js";
import { latestRunBlock, withLatestRun } from "./report-docs.js";
import { renderMarkdown } from "./report-markdown.js";
import { RSS_METHOD } from "./rss.js";
import { SCENARIOS } from "./scenarios.js";
import { IsolatedVariants } from "./variant-runner.js";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const quick = process.argv.includes("--quick");
const only = option("--scenario");
const rounds = Number(option("--rounds") ?? (quick ? 2 : 5));
const scale = quick ? 0.1 : 1;
const LATENCY = "latency";
const MIXED = "mixed";
const SCALE = "scale";
const names = [...SCENARIOS.map((scenario) => scenario.name), LATENCY, MIXED, SCALE];
if (only !== undefined && !names.includes(only)) {
  console.error(`Unknown scenario ${JSON.stringify(only)}; known: ${names.join(", ")}`);
  process.exit(2);
}
if (!Number.isInteger(rounds) || rounds < 1) {
  console.error(`--rounds takes a whole number of at least 1, not ${JSON.stringify(option("--rounds"))}`);
  process.exit(2);
}
const build = currentBuild();
if (build === "compiled") {
  const missing = missingCompiledPackages([
    "@queue/core",
    "@queue/client",
    "@queue/worker-engine",
    "@queue/integration",
    "@queue/postgres",
  ]);
  if (missing.length > 0) {
    console.error(`The compiled packages are missing (${missing.join(", ")}): run \`pnpm build\` first (\`pnpm bench\` does).`);
    process.exit(2);
  }
}
shareBuild(build);
const peers = peersFromArgv();
const runs = (name: string) => only === undefined || only === name;

const latencySettings = { ratePerSecond: 200, seconds: quick ? 1.5 : 5, warmupSeconds: 0.5 };
const mixedSettings: MixedSettings = { producers: 2, inFlight: 100, workers: 2, concurrency: 50, seconds: quick ? 2 : 10 };
const scaleSettings: ScaleSettings = {
  sizes: quick ? [1_000, 10_000, 100_000] : [10_000, 100_000, 1_000_000],
  rounds,
  claimBatch: 50,
  claimsPerRound: quick ? 10 : 20,
  drain: quick ? 1_000 : 10_000,
  drainConcurrency: 50,
  snapshotsPerRound: 4,
};

const sqlite = (new Database(":memory:").prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  sqlite,
  platform: `${process.platform}-${process.arch}`,
  packages: build,
};
const date = new Date().toISOString();
const results: Record<string, ThroughputResult> = {};
let latency: LatencyResult | undefined;
let mixed: MixedResult | undefined;
let scaleResult: ScaleResult | undefined;
const began = performance.now();
/** A line on stderr, after the time since the start. */
const progress = (message: string) => process.stderr.write(`${((performance.now() - began) / 1000).toFixed(1)} s: ${message}\n`);
const directory = mkdtempSync(join(tmpdir(), "queue-bench-"));
try {
  for (const scenario of SCENARIOS) {
    if (!runs(scenario.name)) continue;
    progress(`running ${scenario.name}...`);
    const isolated = await IsolatedVariants.start(scenario.name, { scale, peers });
    let comparisons: Comparison[];
    let rss: Awaited<ReturnType<IsolatedVariants["close"]>>;
    try {
      comparisons = await compare(directory, scenario.name, scenario.reference, isolated.variants(), rounds);
    } finally {
      rss = await isolated.close();
    }
    results[scenario.name] = {
      title: scenario.title,
      unit: scenario.unit,
      reference: scenario.reference,
      comparisons,
      targets: evaluateTargets(scenario.targets, scenario.reference, comparisons),
      ...(scenario.backends === undefined ? {} : { backends: backendRatios(scenario.backends, comparisonMedians(comparisons)) }),
      rss: Object.fromEntries(rss),
    };
  }
  if (runs(LATENCY)) {
    progress(`running ${LATENCY}...`);
    latency = await measureLatency(directory, latencySettings);
  }
  if (runs(MIXED)) {
    progress(`running ${MIXED}...`);
    mixed = await measureMixed(directory, mixedSettings);
  }
  if (runs(SCALE)) {
    progress(`running ${SCALE}...`);
    scaleResult = await measureScale(directory, scaleSettings);
  }
  progress("done");
} finally {
  rmSync(directory, { recursive: true, force: true });
}

const report: BenchResults = {
  date,
  machine,
  quick,
  rounds,
  peers,
  settings: { sizeFactor: scale, latency: latencySettings, mixed: mixedSettings, scale: scaleSettings, only: only ?? null },
  rssMethod: RSS_METHOD,
  results,
  ...(latency === undefined ? {} : { latency }),
  ...(mixed === undefined ? {} : { mixed }),
  ...(scaleResult === undefined ? {} : { scale: scaleResult }),
};
const markdown = renderMarkdown(report);
console.log(markdown);
const resultsDirectory = fileURLToPath(new URL("../results/", import.meta.url));
mkdirSync(resultsDirectory, { recursive: true });
// Only a full run of every scenario replaces the committed results: a --quick smoke run or a
// single --scenario writes beside them (ignored by git).
const name = quick ? "quick" : only !== undefined ? `scenario-${only}` : "latest";
writeFileSync(join(resultsDirectory, `${name}.md`), `${markdown}\n`);
writeFileSync(join(resultsDirectory, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
const PEER_SCENARIOS: readonly PeerScenario[] = ["enqueue", "enqueue-many", "process"];
const peerNames = new Set(PEER_SCENARIOS.flatMap((scenario) => Object.keys(peerVariants(scenario, scale, "all"))));
const chart = renderResultsChart(report, (variant) => peerNames.has(variant));
if (chart !== undefined) writeFileSync(join(resultsDirectory, `${name}.svg`), chart);
// A full run also brings the results page up to date.
if (name === "latest") {
  const page = fileURLToPath(new URL("../../docs/benchmarks.md", import.meta.url));
  try {
    writeFileSync(page, withLatestRun(readFileSync(page, "utf8"), latestRunBlock(report)));
  } catch (error) {
    process.stderr.write(`docs/benchmarks.md not updated: ${(error as Error).message}\n`);
  }
}
