import { type EnqueueResult, QueueClient } from "@queue/client";
import { describe, expectTypeOf, it } from "vitest";
import { openTemp } from "./helpers.js";

type Tasks = {
  "send-email": { to: string; subject: string };
  "resize-image": { url: string; width: number };
};

describe("typed payloads", () => {
  it("checks each type's payload at compile time", async () => {
    const { db } = openTemp();
    const client = new QueueClient<Tasks>({ db });
    const sent = await client.enqueue("send-email", { to: "ada@example.com", subject: "Hi" });
    expectTypeOf(sent).toEqualTypeOf<EnqueueResult<{ to: string; subject: string }, unknown, "send-email">>();
    expectTypeOf(sent.task.payload.to).toBeString();
    // @ts-expect-error: width must be a number
    await client.enqueue("resize-image", { url: "x", width: "wide" }).catch(() => undefined);
    // @ts-expect-error: unknown task type
    await client.enqueue("unknown-type", {}).catch(() => undefined);
    // @ts-expect-error: missing subject
    await client.enqueue("send-email", { to: "x" }).catch(() => undefined);
  });

  it("accepts any type and payload without a map", async () => {
    const { db } = openTemp();
    const client = new QueueClient({ db });
    const result = await client.enqueue("anything", { free: ["form"] });
    expectTypeOf(result.task.payload).toBeUnknown();
  });
});
