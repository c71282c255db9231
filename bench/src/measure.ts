import { join } from "node:path";
import { type Summary, summarize } from "./stats.js";

/** One compared figure: its samples and its ratio to the scenario's reference. */
export interface Comparison {
  readonly variant: string;
  readonly opsPerSecond: Summary;
  readonly ratio: number;
}

export type Variant = (path: string) => number | Promise<number>;

/**
 * Runs every variant `rounds` times, interleaved (round 1 of each, then round 2 of each, ...) so
 * that noise on a shared machine falls on all of them alike; each run gets a fresh file. Ratios
 * are medians over the reference's median.
 */
export async function compare(
  directory: string,
  name: string,
  reference: string,
  variants: Record<string, Variant>,
  rounds: number,
): Promise<Comparison[]> {
  const samples = new Map<string, number[]>(Object.keys(variants).map((variant) => [variant, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [variant, run] of Object.entries(variants)) {
      const path = join(directory, `${name}-${round}-${variant.replace(/\W+/g, "_")}.db`);
      samples.get(variant)?.push(await run(path));
    }
  }
  const referenceMedian = summarize(samples.get(reference) ?? []).median;
  return [...samples].map(([variant, list]) => {
    const opsPerSecond = summarize(list);
    return { variant, opsPerSecond, ratio: opsPerSecond.median / referenceMedian };
  });
}
