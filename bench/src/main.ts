// `pnpm bench`: runs the benchmarks and writes bench/results/latest.{md,json} (quick.{md,json} with --quick).
// Options: --quick (small sizes, for a smoke run), --scenario NAME (run one scenario).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { measureTransactionOverhead } from "./core-overhead.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const scenarioIndex = args.indexOf("--scenario");
const only = scenarioIndex === -1 ? undefined : args[scenarioIndex + 1];
const scenarios = ["core-overhead"];
if (only !== undefined && !scenarios.includes(only)) {
  console.error(`Unknown scenario ${JSON.stringify(only)}; known: ${scenarios.join(", ")}`);
  process.exit(2);
}

const directory = mkdtempSync(join(tmpdir(), "queue-bench-"));
const sqliteVersion = (new Database(":memory:").prepare("SELECT sqlite_version() AS v").get() as { v: string }).v;
const machine = {
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  sqlite: sqliteVersion,
  platform: `${process.platform}-${process.arch}`,
};
const report: Record<string, unknown> = { date: new Date().toISOString(), machine, quick };
const lines: string[] = [
  `# Benchmark results`,
  "",
  `${report.date} on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB), Node ${machine.node}, SQLite ${machine.sqlite}${quick ? ", --quick" : ""}`,
  "",
];

try {
  if (only === undefined || only === "core-overhead") {
    const rows = quick ? 2_000 : 20_000;
    const rounds = quick ? 3 : 7;
    const overhead = await measureTransactionOverhead(directory, rows, rounds);
    report["core-overhead"] = overhead;
    lines.push(
      `## One-row insert transactions: QueueDatabase vs bare better-sqlite3`,
      "",
      `${rows} transactions per round, ${rounds} interleaved rounds, median (min-max).`,
      "",
      "| variant | tx/s | ratio to raw |",
      "| --- | ---: | ---: |",
    );
    for (const [name, { opsPerSecond, ratioToRaw }] of Object.entries(overhead.variants)) {
      const range = `${Math.round(opsPerSecond.median)} (${Math.round(opsPerSecond.min)}-${Math.round(opsPerSecond.max)})`;
      lines.push(`| ${name} | ${range} | ${ratioToRaw.toFixed(2)}x |`);
    }
    lines.push("");
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}

const markdown = lines.join("\n");
console.log(markdown);
const resultsDirectory = fileURLToPath(new URL("../results/", import.meta.url));
mkdirSync(resultsDirectory, { recursive: true });
// A --quick run is a smoke test: it must not replace the committed results of a full run.
const name = quick ? "quick" : "latest";
writeFileSync(join(resultsDirectory, `${name}.md`), `${markdown}\n`);
writeFileSync(join(resultsDirectory, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
