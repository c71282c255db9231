import { QueueError } from "@queue/core";
import { fifo } from "./strategies/fifo.js";
import { lifo } from "./strategies/lifo.js";
import { priority } from "./strategies/priority.js";
import { weightedRandom } from "./strategies/weighted-random.js";
import type { SchedulingStrategy } from "./strategy.js";

export const BUILT_IN_STRATEGIES: readonly SchedulingStrategy[] = Object.freeze([fifo, lifo, priority, weightedRandom]);

const strategies = new Map<string, SchedulingStrategy>(BUILT_IN_STRATEGIES.map((strategy) => [strategy.name, strategy]));

/** Adds a custom strategy under its name; the name must be new. */
export function registerStrategy(strategy: SchedulingStrategy): void {
  if (typeof strategy?.name !== "string" || !/^[a-z][a-z0-9_-]{0,63}$/.test(strategy.name)) {
    throw new QueueError(
      "INVALID_CONFIG",
      `A strategy name must be lower-case letters, digits, _ or - (got ${JSON.stringify(strategy?.name)}).`,
    );
  }
  if (typeof strategy.shape?.orderBy !== "string" || strategy.shape.orderBy.trim() === "") {
    throw new QueueError("INVALID_CONFIG", `Strategy ${strategy.name} has no shape.orderBy.`);
  }
  if (strategies.has(strategy.name)) {
    throw new QueueError("INVALID_CONFIG", `A strategy named ${strategy.name} is already registered; choose another name.`);
  }
  strategies.set(strategy.name, Object.freeze({ ...strategy }));
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
