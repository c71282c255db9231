import { QueueError } from "@queue/core";
import { defineStrategy } from "./define-strategy.js";
import { fifo } from "./strategies/fifo.js";
import { lifo } from "./strategies/lifo.js";
import { priority } from "./strategies/priority.js";
import { weightedRandom } from "./strategies/weighted-random.js";
import type { SchedulingStrategy } from "./strategy.js";

export const BUILT_IN_STRATEGIES: readonly SchedulingStrategy[] = Object.freeze([fifo, lifo, priority, weightedRandom]);

const strategies = new Map<string, SchedulingStrategy>(BUILT_IN_STRATEGIES.map((strategy) => [strategy.name, strategy]));

/**
 * Adds a custom strategy under its name; the name must be new and the order valid (see
 * `defineStrategy`). Throws INVALID_CONFIG otherwise.
 */
export function registerStrategy(strategy: SchedulingStrategy): void {
  const checked = defineStrategy(strategy);
  if (strategies.has(checked.name)) {
    throw new QueueError("INVALID_CONFIG", `A strategy named ${checked.name} is already registered; choose another name.`);
  }
  strategies.set(checked.name, checked);
}

export function strategyNames(): string[] {
  return [...strategies.keys()];
}

/** The strategy registered under `name`; a typed error listing the known names otherwise. */
export function getStrategy(name: string): SchedulingStrategy {
  const strategy = strategies.get(name);
  if (strategy === undefined) {
    throw new QueueError(
      "INVALID_CONFIG",
      `Unknown scheduling strategy ${JSON.stringify(name)}; expected one of ${strategyNames().join(", ")}.`,
      {
        details: { option: "strategy", expected: strategyNames() },
      },
    );
  }
  return strategy;
}
