import { Worker } from "@queue/worker-engine";
import type { TourStep } from "./step.js";

/** The same eight tasks, enqueued in this order, for every strategy. */
const TASKS = [
  { label: "A", priority: 5 },
  { label: "B", priority: 1 },
  { label: "C", priority: 9 },
  { label: "D", priority: 1 },
  { label: "E", priority: 5 },
  { label: "F", priority: 0 },
  { label: "G", priority: 9 },
  { label: "H", priority: 1 },
] as const;

const STRATEGIES = ["fifo", "lifo", "priority", "weighted_random"] as const;
type StrategyName = (typeof STRATEGIES)[number];

const EXPLAINED: Record<StrategyName, string> = {
  fifo: "oldest first",
  lifo: "newest first",
  priority: "lowest number first, then oldest; the default",
  weighted_random: "a weighted draw: lower numbers tend to go first, none is starved; differs from run to run",
};

const cell = (label: string) => `${label} p${TASKS.find((task) => task.label === label)?.priority}`;

/**
 * Each strategy gets its own copy of the same tasks (a task type per strategy, so each worker claims
 * only its copy), and one worker at concurrency 1 records the order its handler sees them in.
 */
export const strategiesStep: TourStep = {
  name: "strategies",
  title: "The four scheduling strategies on the same tasks",
  summary:
    "A strategy decides which runnable task a worker claims next. Each worker below runs at concurrency 1 and claims one task at a time (prefetch 0), so the order its handler sees is the strategy's order.",
  async run(tour) {
    const { db, client } = tour;
    for (const strategy of STRATEGIES) {
      await client.enqueueMany(
        TASKS.map(({ label, priority }) => ({ type: `order-${strategy}`, payload: { label }, options: { priority } })),
      );
    }
    tour.call(
      "await client.enqueueMany(tasks.map(({ label, priority }) => ({ type, payload: { label }, options: { priority } })))",
      `enqueued in this order, once per strategy: ${TASKS.map((task) => cell(task.label)).join(", ")}`,
    );

    const orders = {} as Record<StrategyName, string[]>;
    for (const strategy of STRATEGIES) {
      const order: string[] = [];
      const worker = new Worker<Record<string, { label: string }>>({
        db,
        strategy,
        concurrency: 1,
        prefetch: 0,
        pollIntervalMs: 10,
        handlers: { [`order-${strategy}`]: ({ label }) => void order.push(label) },
      });
      await worker.runUntilEmpty();
      orders[strategy] = order;
      tour.call(
        `await new Worker({ db, strategy: "${strategy}", concurrency: 1, prefetch: 0, handlers }).runUntilEmpty()`,
        `${order.join(" ")}  (${EXPLAINED[strategy]})`,
      );
    }

    const width = Math.max(...STRATEGIES.map((name) => name.length), 6) + 2;
    tour.note("Side by side, in the order each handler ran:");
    tour.note(`  ${"#".padEnd(3)}${STRATEGIES.map((name) => name.padEnd(width)).join("")}`);
    for (let index = 0; index < TASKS.length; index++) {
      tour.note(`  ${String(index + 1).padEnd(3)}${STRATEGIES.map((name) => cell(orders[name][index] ?? "-").padEnd(width)).join("")}`);
    }
    tour.note("Choose it per worker: new Worker({ strategy }), queue work --strategy, or strategy: in a worker config file.");
    return {
      ok: STRATEGIES.every((name) => orders[name].length === TASKS.length),
      data: { tasks: TASKS, orders },
    };
  },
};
