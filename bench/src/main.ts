// `pnpm bench`: every scenario, each variant beside its reference in the same run on the same file
// system; writes bench/results/latest.{md,json} (quick.{md,json} with --quick, scenario-NAME.{md,json}
// with --scenario).
// Options: --quick (a tenth of the sizes, two rounds: a smoke run), --scenario NAME, --rounds N.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type Comparison, compare } from "./measure.js";
import { type Figure, measureOperationsAtScale } from "./operations.js";
import { SCENARIOS } from "./scenarios.js";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const quick = process.argv.includes("--quick");
const only = option("--scenario");
const rounds = Number(option("--rounds") ?? (quick ? 2 : 5));
const scale = quick ? 0.1 : 1;
const SCALE_SCENARIO = "scale";
const names = [...SCENARIOS.map((scenario) => scenario.name), SCALE_SCENARIO];
if (only !== undefined && !names.includes(only)) {
  console.error(`Unknown scenario ${JSON.stringify(only)}; known: ${names.join(", ")}`);
  process.exit(2);
}

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
const lines = [
  "# Benchmark results",
  "",
  `${date} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}, SQLite ${machine.sqlite}.`,
  `${rounds} interleaved rounds per scenario${quick ? " (--quick: a tenth of the sizes)" : ""}; figures are medians (min-max); ratios are medians over the reference's median in the same run.`,
  "",
];
const results: Record<string, { title: string; unit: string; reference: string; comparisons: Comparison[]; targets: unknown[] }> = {};
const fmt = (value: number) => Math.round(value).toLocaleString("en-US");
const directory = mkdtempSync(join(tmpdir(), "queue-bench-"));
let scaleFigures: Figure[] | undefined;
try {
  for (const scenario of SCENARIOS) {
    if (only !== undefined && scenario.name !== only) continue;
    process.stderr.write(`running ${scenario.name}...\n`);
    const comparisons = await compare(directory, scenario.name, scenario.reference, scenario.variants(scale), rounds);
    const targets = scenario.targets.map((target) => {
      const ratio = comparisons.find((comparison) => comparison.variant === target.variant)?.ratio ?? 0;
      return { ...target, ratio, met: ratio >= target.atLeast };
    });
    results[scenario.name] = { title: scenario.title, unit: scenario.unit, reference: scenario.reference, comparisons, targets };
    lines.push(`## ${scenario.title}`, "", `| variant | ${scenario.unit} | ratio to "${scenario.reference}" |`, "| --- | ---: | ---: |");
    for (const { variant, opsPerSecond, ratio } of comparisons) {
      lines.push(`| ${variant} | ${fmt(opsPerSecond.median)} (${fmt(opsPerSecond.min)}-${fmt(opsPerSecond.max)}) | ${ratio.toFixed(2)}x |`);
    }
    for (const target of targets) {
      lines.push(
        "",
        `Target: ${target.variant} >= ${target.atLeast}x the reference: ${target.ratio.toFixed(2)}x, ${target.met ? "met" : "NOT met"}.`,
      );
    }
    lines.push("");
  }
  if (only === undefined || only === SCALE_SCENARIO) {
    process.stderr.write(`running ${SCALE_SCENARIO}...\n`);
    const rows = quick ? 100_000 : 1_000_000;
    const figures: Figure[] = await measureOperationsAtScale(directory, rows, rounds);
    scaleFigures = figures;
    lines.push("## Operations on a large file", "", "| operation | figure | detail |", "| --- | ---: | --- |");
    for (const figure of figures)
      lines.push(`| ${figure.what} | ${figure.value.toFixed(figure.unit === "ms" ? 1 : 0)} ${figure.unit} | ${figure.detail} |`);
    lines.push("");
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}

const markdown = lines.join("\n");
console.log(markdown);
const resultsDirectory = fileURLToPath(new URL("../results/", import.meta.url));
mkdirSync(resultsDirectory, { recursive: true });
// Only a full run of every scenario replaces the committed results: a --quick smoke run or a
// single --scenario writes beside them (ignored by git).
const name = quick ? "quick" : only !== undefined ? `scenario-${only}` : "latest";
writeFileSync(join(resultsDirectory, `${name}.md`), `${markdown}\n`);
writeFileSync(
  join(resultsDirectory, `${name}.json`),
  `${JSON.stringify({ date, machine, quick, rounds, results, scale: scaleFigures }, null, 2)}\n`,
);
