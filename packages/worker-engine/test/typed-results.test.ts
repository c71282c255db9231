import { QueueClient } from "@queue/client";
import type { Task } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import { describe, expect, expectTypeOf, it } from "vitest";
import { harness } from "./helpers.js";

type Tasks = {
  "send-email": { to: string; subject: string };
  "resize-image": { url: string; width: number };
};
type Results = { "resize-image": { bytes: number } };

describe("typed results from producer to handler and back", () => {
  it("get and waitFor follow the task-type map and the results map", async () => {
    const { db } = harness();
    const client = new QueueClient<Tasks, Results>({ db });
    const { task } = await client.enqueue("resize-image", { url: "https://example.com/a.png", width: 64 });
    await new Worker<Tasks, Results>({ db, handlers: { "resize-image": async ({ width }) => ({ bytes: width * 4 }) } }).runUntilEmpty();

    const done = await client.waitFor(task, { timeoutMs: 5_000 });
    expectTypeOf(done.payload).toEqualTypeOf<{ url: string; width: number }>();
    expectTypeOf(done.result).toEqualTypeOf<{ bytes: number } | null>();
    expect(done).toMatchObject({ type: "resize-image", status: "completed", result: { bytes: 256 } });
    const again = await client.get({ id: task.id, type: "resize-image" });
    expectTypeOf(again).toEqualTypeOf<typeof done | undefined>();
    expect(again?.result?.bytes).toBe(256);

    // By id alone: a task of any type of the map, narrowed by checking its type.
    const any = await client.get(task.id);
    if (any?.type === "send-email") expectTypeOf(any.payload).toEqualTypeOf<{ to: string; subject: string }>();
    if (any?.type === "resize-image") expectTypeOf(any.result).toEqualTypeOf<{ bytes: number } | null>();
    expect(any?.type).toBe("resize-image");
    // Types given by hand still work.
    expectTypeOf(await client.get<{ n: number }, string>(task.id)).toEqualTypeOf<Task<{ n: number }, string> | undefined>();
    // @ts-expect-error: not a type of the map
    await client.waitFor({ id: task.id, type: "unknown-type" }, { timeoutMs: 1 }).catch(() => undefined);
  });

  it("a handler must return its type's result", () => {
    const { db } = harness();
    // @ts-expect-error: resize-image returns { bytes: number }
    const worker = new Worker<Tasks, Results>({ db, handlers: { "resize-image": async () => "not bytes" } });
    expect(worker).toBeInstanceOf(Worker);
  });
});
