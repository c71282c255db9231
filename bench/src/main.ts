// `pnpm bench`: every scenario, each variant beside its reference in the same run on the same file
// system; writes bench/results/latest.{md,json,svg} (quick.* with --quick, scenario-NAME.* with
// --scenario).
// Options: --quick (smaller sizes, shorter runs, two rounds: a smoke run), --scenario NAME,
// --rounds N, --peers none|sqlite|all (see peers/options.ts).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type LatencyResult, measureLatency } from "./latency.js";
import { type Comparison, compare, evaluateTargets } from "./measure.js";
import { type MixedResult, type MixedSettings, measureMixed } from "./mixed.js";
import { measureScale, type ScaleResult, type ScaleSettings } from "./operations.js";
import { type PeerScenario, peerVariants } from "./peers/index.js";
import { peersFromArgv } from "./peers/options.js";
import { type BenchResults, chartGroups, type ThroughputResult } from "./report.js";
import { renderMarkdown } from "./report-markdown.js";
import { RSS_METHOD } from "./rss.js";
import { SCENARIOS } from "./scenarios.js";
import { renderChart } from "./svg.js";
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
};
const date = new Date().toISOString();
const results: Record<string, ThroughputResult> = {};
let latency: LatencyResult | undefined;
let mixed: MixedResult | undefined;
let scaleResult: ScaleResult | undefined;
const directory = mkdtempSync(join(tmpdir(), "queue-bench-"));
try {
  for (const scenario of SCENARIOS) {
    if (!runs(scenario.name)) continue;
    process.stderr.write(`running ${scenario.name}...\n`);
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
      rss: Object.fromEntries(rss),
    };
  }
  if (runs(LATENCY)) {
    process.stderr.write(`running ${LATENCY}...\n`);
    latency = await measureLatency(directory, latencySettings);
  }
  if (runs(MIXED)) {
    process.stderr.write(`running ${MIXED}...\n`);
    mixed = await measureMixed(directory, mixedSettings);
  }
  if (runs(SCALE)) {
    process.stderr.write(`running ${SCALE}...\n`);
    scaleResult = await measureScale(directory, scaleSettings);
  }
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
const groups = chartGroups(results, (variant) => peerNames.has(variant));
if (groups.length > 0) {
  const subtitle = `${date.slice(0, 10)}, ${machine.cpu} (${machine.cores} cores), Node ${machine.node}, SQLite ${machine.sqlite}${quick ? ", --quick" : ""}; medians of ${rounds} rounds, ratio to each scenario's reference`;
  writeFileSync(
    join(resultsDirectory, `${name}.svg`),
    renderChart(groups, { title: "Throughput: the queue beside the raw SQLite limit", subtitle }),
  );
}
