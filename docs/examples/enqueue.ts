import type { QueueClient } from "@queue/client";

type Tasks = {
  "send-email": { to: string; subject: string };
  "resize-image": { url: string; width: number };
};

export async function enqueueExamples(client: QueueClient<Tasks>): Promise<void> {
  // One task; concurrent calls in the same turn of the event loop share one transaction.
  const { task } = await client.enqueue("send-email", { to: "ada@example.com", subject: "Welcome" });

  // Idempotent: the same key returns the first task instead of adding another.
  const again = await client.enqueue("send-email", { to: "ada@example.com", subject: "Welcome" }, { idempotencyKey: `welcome-${task.id}` });
  console.log(again.created);

  // Delayed, prioritised, with a retry budget, a time limit and a required capability.
  await client.enqueue(
    "resize-image",
    { url: "https://example.com/a.png", width: 640 },
    {
      delayMs: 60_000,
      priority: 1,
      maxAttempts: 5,
      timeoutMs: 30_000,
      requires: ["imagemagick"],
    },
  );

  // Many at once, all or nothing, in one transaction.
  await client.enqueueMany([
    { type: "resize-image", payload: { url: "https://example.com/b.png", width: 320 } },
    { type: "resize-image", payload: { url: "https://example.com/c.png", width: 320 } },
  ]);

  // Wait for the outcome.
  const final = await client.waitFor(task.id, { timeoutMs: 60_000 });
  console.log(final.status, final.result);
}
