import { registerStrategy, type SchedulingStrategy } from "@queue/scheduling";
import { Worker } from "@queue/worker-engine";
import { describe, expect, it } from "vitest";
import { harness } from "./helpers.js";

async function executionOrder(strategy: string | SchedulingStrategy, tasks: { priority: number; delayMs?: number }[]): Promise<number[]> {
  const { client, clock, worker } = harness();
  for (const [index, options] of tasks.entries()) {
    await client.enqueue("t", index, { priority: options.priority, delayMs: options.delayMs ?? 0 });
    clock.advance(1);
  }
  clock.advance(1_000);
  const order: number[] = [];
  await worker({ strategy, handlers: { t: (payload) => void order.push(payload as number) } }).runUntilEmpty();
  return order;
}

const mixed = [{ priority: 5 }, { priority: 1 }, { priority: 5 }, { priority: 0 }, { priority: 1, delayMs: 100 }];

describe("strategies, within one worker", () => {
  it("fifo runs oldest runnable first", async () => {
    expect(await executionOrder("fifo", mixed)).toEqual([0, 1, 2, 3, 4]);
  });

  it("fifo orders a delayed task by when it became runnable", async () => {
    expect(await executionOrder("fifo", [{ priority: 0, delayMs: 50 }, { priority: 0 }])).toEqual([1, 0]);
  });

  it("lifo runs newest first", async () => {
    expect(await executionOrder("lifo", mixed)).toEqual([4, 3, 2, 1, 0]);
  });

  it("priority runs lowest number first, oldest first within a priority", async () => {
    expect(await executionOrder("priority", mixed)).toEqual([3, 1, 4, 0, 2]);
  });

  it("weighted_random favours lower priority numbers but runs everything", async () => {
    const tasks = Array.from({ length: 40 }, (_, n) => ({ priority: n % 2 === 0 ? 0 : 9 }));
    const order = await executionOrder("weighted_random", tasks);
    expect([...order].sort((a, b) => a - b)).toEqual(tasks.map((_, n) => n));
  });

  it("a registered custom strategy claims in its declared order, newest enqueued first whatever the run-after", async () => {
    registerStrategy({
      name: "newest-enqueued",
      description: "newest enqueued first",
      order: { by: [{ column: "created_at", direction: "desc" }] },
    });
    // Task 0 was enqueued first but becomes runnable last: by run-after (lifo) it would run first.
    const tasks = [{ priority: 0, delayMs: 500 }, { priority: 9 }, { priority: 0 }, { priority: 5 }, { priority: 1 }];
    expect(await executionOrder("newest-enqueued", tasks)).toEqual([4, 3, 2, 1, 0]);
    expect(await executionOrder("lifo", tasks)).toEqual([0, 4, 3, 2, 1]);
  });

  it("a custom strategy object given to a worker runs a batch claimed together in its order", async () => {
    const strategy = { name: "least-urgent", description: "", order: { by: [{ column: "priority", direction: "desc" }] } } as const;
    const tasks = [{ priority: 1 }, { priority: 7 }, { priority: 3 }, { priority: 7 }];
    const { client, worker } = harness();
    for (const [index, options] of tasks.entries()) await client.enqueue("t", index, options);
    const order: number[] = [];
    // One claim takes all four (a slot and eight ahead); they start one at a time, highest number first, ties newest first.
    const stats = await worker({
      strategy,
      concurrency: 1,
      prefetch: 8,
      handlers: { t: (payload) => void order.push(payload as number) },
    }).runUntilEmpty();
    expect(stats).toMatchObject({ completed: 4 });
    expect(order).toEqual([3, 1, 2, 0]);
  });

  it("a strategy object with an invalid order is refused when the worker is made", () => {
    const { db } = harness();
    const make = (order: unknown) => () =>
      new Worker({ db, strategy: { name: "bad", description: "", order } as SchedulingStrategy, handlers: { t: () => undefined } });
    expect(make({ by: [{ column: "payload", direction: "asc" }] })).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: expect.stringContaining('Strategy bad: order.by[0].column is "payload"'),
      }),
    );
  });
});
