// The part of docs/benchmarks.md that a full `pnpm bench` run rewrites: when and where the latest
// run was made, its chart, and every target with its verdict.
import type { BenchResults } from "./report.js";
import { targetBaseline } from "./report-markdown.js";

export const LATEST_RUN_BEGIN = "<!-- latest run: rewritten by a full `pnpm bench` -->";
export const LATEST_RUN_END = "<!-- end of latest run -->";

const ratio = (value: number) => `${value.toFixed(2)}x`;
const count = (value: number) => Math.round(value).toLocaleString("en-US");
const cell = (text: string) => text.replace(/\|/g, "\\|");

/** Each target of the run: what it asks, what was measured, and the verdict. */
export function targetRows(results: BenchResults): [string, string, string][] {
  const rows: [string, string, string][] = [];
  for (const scenario of Object.values(results.results)) {
    for (const target of scenario.targets) {
      const of = targetBaseline(target, `"${scenario.reference}"`);
      const verdict = target.notEvaluated !== undefined ? `not judged: ${target.notEvaluated}` : target.met ? "met" : "NOT met";
      rows.push([
        `${scenario.title}: "${target.variant}" >= ${target.atLeast}x ${of}`,
        target.notEvaluated === undefined ? ratio(target.ratio) : "-",
        verdict,
      ]);
    }
  }
  for (const figure of results.latency?.figures ?? []) {
    if (figure.target === undefined) continue;
    const what = `Latency, ${figure.variant}: p50 <= ${figure.target.p50AtMost} ms`;
    if ("notRun" in figure) rows.push([what, "-", `not judged: not run: ${figure.notRun}`]);
    else rows.push([what, `${figure.p50.toFixed(figure.p50 < 10 ? 2 : 1)} ms`, figure.target.met ? "met" : "NOT met"]);
  }
  const mixed = results.mixed;
  if (mixed !== undefined) {
    const problems = mixed.duplicates + mixed.unrecorded + mixed.lost + mixed.errors.length;
    rows.push([
      "Producers and workers at once: no task run twice or lost",
      `${count(mixed.duplicates)} run twice, ${count(mixed.lost)} lost`,
      problems === 0 ? "met" : "NOT met",
    ]);
  }
  const scale = results.scale;
  if (scale !== undefined) {
    const sizes = scale.sizes.map((size) => count(size.rows));
    rows.push([
      `Claim latency at ${sizes[sizes.length - 1]} tasks within ${scale.target.claimRatioAtMost}x of at ${sizes[0]}`,
      ratio(scale.target.ratio),
      scale.target.met ? "met" : "NOT met",
    ]);
  }
  return rows;
}

/** The block between the markers, for a run written to bench/results/latest.*. */
export function latestRunBlock(results: BenchResults): string {
  const { machine } = results;
  const missing = [
    results.latency === undefined ? "latency" : undefined,
    results.mixed === undefined ? "mixed" : undefined,
    results.scale === undefined ? "scale" : undefined,
  ].filter((name) => name !== undefined);
  const lines = [
    LATEST_RUN_BEGIN,
    "",
    `Run of ${results.date.slice(0, 10)} (${results.date}) on ${machine.cpu} (${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}), ` +
      `Node ${machine.node}, SQLite ${machine.sqlite}; ${machine.packages === undefined ? "" : machine.packages === "compiled" ? "the compiled packages; " : "the TypeScript sources; "}` +
      `${results.rounds} rounds${results.peers === undefined ? "" : `, --peers ${results.peers}`}. ` +
      "Every table: [bench/results/latest.md](../bench/results/latest.md); every figure: [latest.json](../bench/results/latest.json)." +
      (missing.length === 0 ? "" : ` Not in this run: ${missing.join(", ")}.`),
    "",
    "![Throughput of each scenario's variants, with their ratio to the scenario's reference](../bench/results/latest.svg)",
    "",
    "| target | measured | verdict |",
    "| --- | ---: | --- |",
    ...targetRows(results).map((row) => `| ${row.map(cell).join(" | ")} |`),
    "",
    LATEST_RUN_END,
  ];
  return lines.join("\n");
}

/** `page` with the block between the markers replaced; throws if the markers are missing. */
export function withLatestRun(page: string, block: string): string {
  const begin = page.indexOf(LATEST_RUN_BEGIN);
  const end = page.indexOf(LATEST_RUN_END);
  if (begin === -1 || end === -1 || end < begin) throw new Error("the page has no latest-run markers");
  return page.slice(0, begin) + block + page.slice(end + LATEST_RUN_END.length);
}
