// A typed producer and worker, as an application that installed the packages from npm writes it.
import { QueueClient } from "@queue/client";
import { isQueueError } from "@queue/core";
import { Worker } from "@queue/worker-engine";

type Tasks = {
  "send-email": { to: string; subject: string };
  "resize-image": { url: string; width: number };
};
type Results = { "resize-image": { bytes: number } };

const path = process.argv[2] ?? "./queue.db";
const client = new QueueClient<Tasks, Results>({ path });
const email = await client.enqueue("send-email", { to: "ada@example.com", subject: "Welcome" });
const image = await client.enqueue("resize-image", { url: "https://example.com/a.png", width: 64 });

const worker = new Worker<Tasks, Results>({
  path,
  concurrency: 4,
  handlers: {
    "send-email": async ({ to }, ctx) => {
      await ctx.log("info", "sending", { to });
    },
    "resize-image": async ({ width }) => ({ bytes: width * 4 }),
  },
});
const deadLettered: string[] = [];
worker.on("dead-lettered", (task, error) => deadLettered.push(`task ${task.id}: ${error}`));
await worker.runUntilEmpty();

const resized = await client.waitFor(image.task, { timeoutMs: 10_000 });
const bytes: number | undefined = resized.result?.bytes;
const sent = await client.get(email.task);
let invalid = "";
try {
  await client.get(0);
} catch (error) {
  if (isQueueError(error, "INVALID_ARGUMENT")) invalid = error.code;
}
await client.close();
console.log(JSON.stringify({ email: sent?.status, image: resized.status, bytes, invalid, deadLettered }));
