import { describe, expect, it } from "vitest";
import { harness } from "./helpers.js";

async function executionOrder(strategy: string, tasks: { priority: number; delayMs?: number }[]): Promise<number[]> {
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
});
