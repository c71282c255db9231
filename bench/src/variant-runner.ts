// Runs each variant of a throughput scenario in a process of its own (variant-child.ts), so that
// its peak RSS is its own: started once per variant before the first round, kept for every round,
// ended after the last. The wrappers it hands to compare() time nothing themselves: the variant
// measures its own work inside its process, exactly as it would in this one.
import { benchScript, ended, type IpcChild, spawnIpcChild } from "./child.js";
import type { Variant } from "./measure.js";
import { type PeakRss, sampleDescendants } from "./rss.js";
import { SCENARIOS } from "./scenarios.js";

/** What a variant is built from, in this process and in its own. */
export interface VariantSettings {
  readonly scale: number;
  /** --peers, passed on to the variant's process, where the scenarios read it from the arguments. */
  readonly peers: string;
}

export type RunnerRequest = { readonly path: string } | { readonly exit: true };
export type RunnerResponse =
  | { readonly ready: true; readonly rssKiB: number }
  | { readonly value: number }
  | { readonly error: string }
  | { readonly maxRssKiB: number };

/** A scenario's variants, as main.ts and variant-child.ts both build them. */
export function variantsOf(scenarioName: string, settings: VariantSettings): Record<string, Variant> {
  const scenario = SCENARIOS.find((candidate) => candidate.name === scenarioName);
  if (scenario === undefined) throw new Error(`No scenario ${JSON.stringify(scenarioName)}`);
  return scenario.variants(settings.scale);
}

interface Runner {
  readonly process: IpcChild;
  idleKiB?: number;
  /** Most processes the variant started in one round, and the largest peak among them (KiB). */
  children: number;
  childMaxKiB: number;
}

export class IsolatedVariants {
  readonly #runners = new Map<string, Runner>();
  readonly #variants: Record<string, Variant>;

  private constructor(variants: Record<string, Variant>) {
    this.#variants = variants;
  }

  /** Starts one process per runnable variant (in parallel, before anything is timed). */
  static async start(scenarioName: string, settings: VariantSettings): Promise<IsolatedVariants> {
    const isolated = new IsolatedVariants(variantsOf(scenarioName, settings));
    for (const [variant, run] of Object.entries(isolated.#variants)) {
      if (typeof run !== "function") continue;
      const child = spawnIpcChild(benchScript("variant-child.ts"), [
        scenarioName,
        variant,
        JSON.stringify(settings),
        `--peers=${settings.peers}`,
      ]);
      isolated.#runners.set(variant, { process: child, children: 0, childMaxKiB: 0 });
    }
    try {
      await Promise.all(
        [...isolated.#runners.values()].map(async (runner) => {
          const response = await runner.process.next<RunnerResponse>();
          if ("rssKiB" in response) runner.idleKiB = response.rssKiB;
        }),
      );
    } catch (error) {
      await isolated.close();
      throw error;
    }
    return isolated;
  }

  /** Variants for compare(): each runs in its process; anything not runnable is passed on as it is. */
  variants(): Record<string, Variant> {
    return Object.fromEntries(
      Object.entries(this.#variants).map(([variant, run]) => {
        const runner = this.#runners.get(variant);
        return [variant, runner === undefined ? run : (path: string) => this.#run(runner, path)];
      }),
    );
  }

  async #run(runner: Runner, path: string): Promise<number> {
    const pid = runner.process.child.pid;
    const sampler = pid === undefined ? undefined : sampleDescendants(pid);
    let response: RunnerResponse;
    try {
      response = await runner.process.request<RunnerResponse>({ path } satisfies RunnerRequest);
    } finally {
      const peaks = sampler?.stop() ?? new Map<number, number>();
      runner.children = Math.max(runner.children, peaks.size);
      runner.childMaxKiB = Math.max(runner.childMaxKiB, ...peaks.values());
    }
    if ("value" in response) return response.value;
    throw new Error("error" in response ? response.error : `unexpected message ${JSON.stringify(response)}`);
  }

  /** Ends every process; the peak RSS of each variant whose process answered. */
  async close(): Promise<Map<string, PeakRss>> {
    const peaks = new Map<string, PeakRss>();
    await Promise.all(
      [...this.#runners].map(async ([variant, runner]) => {
        try {
          const response = await runner.process.request<RunnerResponse>({ exit: true } satisfies RunnerRequest);
          if ("maxRssKiB" in response)
            peaks.set(variant, {
              selfKiB: response.maxRssKiB,
              ...(runner.idleKiB === undefined ? {} : { idleKiB: runner.idleKiB }),
              children: runner.children,
              childMaxKiB: runner.childMaxKiB,
            });
        } catch {
          // Already gone: no figure.
        } finally {
          await ended(runner.process.child);
        }
      }),
    );
    return peaks;
  }
}
