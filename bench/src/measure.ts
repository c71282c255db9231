import { join } from "node:path";
import { type Summary, summarize } from "./stats.js";

/**
 * One compared figure: its samples and its ratio to the scenario's reference. A variant that could
 * not run keeps zeros in `opsPerSecond` and `ratio` and says why in `notRun`.
 */
export interface Comparison {
  readonly variant: string;
  readonly opsPerSecond: Summary;
  readonly ratio: number;
  readonly notRun?: string;
}

export type Variant = (path: string) => number | Promise<number>;

/**
 * Thrown by a variant that cannot run here (a service not reachable, a package that cannot be
 * installed or run on this Node.js): the comparison records the reason instead of figures.
 */
export class NotRun extends Error {
  override readonly name = "NotRun";
  readonly reason: string;

  constructor(reason: string) {
    super(`not run: ${reason}`);
    this.reason = reason;
  }
}

/** Whether `error` is a NotRun, by brand rather than `instanceof` alone. */
export function isNotRun(error: unknown): error is NotRun {
  return error instanceof Error && error.name === "NotRun" && typeof (error as { reason?: unknown }).reason === "string";
}

const NOT_RUN_TEXT = /^(?:Error: )?NotRun: not run: (.*)$/m;

/**
 * The reason of a NotRun, also when it crossed a process boundary as text (a variant run in a
 * child process comes back as an Error whose message is the NotRun's stack); undefined otherwise.
 */
export function notRunReason(error: unknown): string | undefined {
  if (isNotRun(error)) return error.reason;
  if (!(error instanceof Error)) return undefined;
  return NOT_RUN_TEXT.exec(error.message.split("\n", 1)[0] ?? "")?.[1];
}

const NO_FIGURES: Summary = { median: 0, min: 0, max: 0 };

/**
 * Runs every variant `rounds` times, interleaved (round 1 of each, then round 2 of each, ...) so
 * that noise on a shared machine falls on all of them alike; each run gets a fresh file. Ratios
 * are medians over the reference's median. A variant that throws NotRun is not run again and is
 * recorded with the reason; any other error still ends the comparison.
 */
export async function compare(
  directory: string,
  name: string,
  reference: string,
  variants: Record<string, Variant>,
  rounds: number,
): Promise<Comparison[]> {
  const samples = new Map<string, number[]>(Object.keys(variants).map((variant) => [variant, []]));
  const notRun = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    for (const [variant, run] of Object.entries(variants)) {
      if (notRun.has(variant)) continue;
      const path = join(directory, `${name}-${round}-${variant.replace(/\W+/g, "_")}.db`);
      try {
        samples.get(variant)?.push(await run(path));
      } catch (error) {
        const reason = notRunReason(error);
        if (reason === undefined) throw error;
        notRun.set(variant, reason);
        process.stderr.write(`  ${variant}: not run: ${reason}\n`);
      }
    }
  }
  const referenceMedian = notRun.has(reference) ? 0 : summarize(samples.get(reference) ?? []).median;
  return [...samples].map(([variant, list]): Comparison => {
    const reason = notRun.get(variant);
    if (reason !== undefined) return { variant, opsPerSecond: NO_FIGURES, ratio: 0, notRun: reason };
    const opsPerSecond = summarize(list);
    return { variant, opsPerSecond, ratio: referenceMedian === 0 ? 0 : opsPerSecond.median / referenceMedian };
  });
}

/**
 * A target from the project's goals: `variant` should reach `atLeast` times the scenario's
 * reference, or times the variant named by `of` (e.g. a peer queue), or times the best (highest
 * median) of the variants named by `ofBest` (e.g. every PostgreSQL peer).
 */
export interface Target {
  readonly variant: string;
  readonly atLeast: number;
  readonly of?: string;
  readonly ofBest?: readonly string[];
}

/** A target as measured: `ratio` is the variant's median over its baseline's median. */
export interface TargetResult extends Target {
  /** The variant the ratio is taken to: `of`, the best of `ofBest`, or the scenario's reference. */
  readonly baseline: string;
  readonly ratio: number;
  readonly met: boolean;
  /** Why the target could not be judged (a side not run, or not in this run); `met` is then false. */
  readonly notEvaluated?: string;
}

/**
 * Evaluates `targets` on a scenario's comparisons (as returned by compare()). A target against the
 * best of several variants is judged only when every one of them ran: the best of those that ran
 * might not be the best.
 */
export function evaluateTargets(targets: readonly Target[], reference: string, comparisons: readonly Comparison[]): TargetResult[] {
  return targets.map((target) => {
    const candidates = target.ofBest ?? [target.of ?? reference];
    const find = (name: string) => comparisons.find((comparison) => comparison.variant === name);
    const names = [target.variant, ...candidates];
    const sides = names.map(find);
    const missing = names.find((_, index) => sides[index] === undefined);
    const notRun = sides.find((side) => side?.notRun !== undefined);
    const ran = sides.slice(1).filter((side): side is Comparison => side !== undefined && side.notRun === undefined);
    const best = ran.reduce<Comparison | undefined>(
      (top, side) => (top === undefined || side.opsPerSecond.median > top.opsPerSecond.median ? side : top),
      undefined,
    );
    const baseline = best?.variant ?? (candidates[0] as string);
    const notEvaluated =
      missing !== undefined
        ? `${missing} is not in this run`
        : notRun !== undefined
          ? `${notRun.variant}: not run: ${notRun.notRun}`
          : undefined;
    if (notEvaluated !== undefined || best === undefined)
      return { ...target, baseline, ratio: 0, met: false, notEvaluated: notEvaluated ?? "no baseline" };
    const mine = sides[0] as Comparison;
    const ratio = best.opsPerSecond.median === 0 ? 0 : mine.opsPerSecond.median / best.opsPerSecond.median;
    return { ...target, baseline, ratio, met: ratio >= target.atLeast };
  });
}

/** The name of a variant's twin on our PostgreSQL backend. */
export const onPostgres = (variant: string): string => `PostgreSQL backend: ${variant}`;

/** SQLite variants paired with their PostgreSQL twins (named by onPostgres). */
export const twins = (...variants: string[]): BackendPair[] => variants.map((sqlite) => ({ sqlite, postgres: onPostgres(sqlite) }));

/** A variant of our SQLite backend and its twin on our PostgreSQL backend, in one scenario. */
export interface BackendPair {
  readonly sqlite: string;
  readonly postgres: string;
}

/**
 * One operation on both of our backends: each side's median, and PostgreSQL's over SQLite's (for
 * throughput below 1 where PostgreSQL is slower; for a latency above 1). A side that did not run,
 * or is not in this run, has no figure but says why, and there is no ratio.
 */
export interface BackendRatio extends BackendPair {
  readonly sqliteMedian?: number;
  readonly postgresMedian?: number;
  readonly sqliteNotRun?: string;
  readonly postgresNotRun?: string;
  readonly ratio?: number;
}

/** A variant's median, or why it has none (undefined: not in this run). */
export type MedianOf = (variant: string) => number | { readonly notRun: string } | undefined;

/** PostgreSQL over SQLite for each pair. */
export function backendRatios(pairs: readonly BackendPair[], median: MedianOf): BackendRatio[] {
  return pairs.map((pair) => {
    const side = (name: "sqlite" | "postgres") => {
      const value = median(pair[name]);
      if (typeof value === "number") return { [`${name}Median`]: value };
      return { [`${name}NotRun`]: value === undefined ? "not in this run" : value.notRun };
    };
    const sqlite = median(pair.sqlite);
    const postgres = median(pair.postgres);
    const ratio = typeof sqlite === "number" && typeof postgres === "number" && sqlite > 0 ? postgres / sqlite : undefined;
    return { ...pair, ...side("sqlite"), ...side("postgres"), ...(ratio === undefined ? {} : { ratio }) } as BackendRatio;
  });
}

/** The medians of compare()'s comparisons, by variant, for backendRatios(). */
export function comparisonMedians(comparisons: readonly Comparison[]): MedianOf {
  return (variant) => {
    const found = comparisons.find((comparison) => comparison.variant === variant);
    if (found === undefined) return undefined;
    return found.notRun === undefined ? found.opsPerSecond.median : { notRun: found.notRun };
  };
}
