export type { ClaimOrder, ClaimOrderColumn, OrderDirection, OrderKey, WeightedDraw } from "@queue/core";
export { defineStrategy } from "./define-strategy.js";
export { BUILT_IN_STRATEGIES, getStrategy, registerStrategy, strategyNames } from "./registry.js";
export { fifo } from "./strategies/fifo.js";
export { lifo } from "./strategies/lifo.js";
export { priority } from "./strategies/priority.js";
export { WEIGHTED_RANDOM_WINDOW, weightedRandom } from "./strategies/weighted-random.js";
export type { OrderableTask, SchedulingStrategy } from "./strategy.js";
export {
  type LoadWorkerConfigOptions,
  loadWorkerConfig,
  validateWorkerConfig,
  WORKER_CONFIG_KEYS,
  type WorkerConfig,
} from "./worker-config.js";
