import { QueueClient } from "@queue/client";
import { Worker } from "@queue/worker-engine";

// One map of task types to payloads, shared by producers and workers: both are type-checked against it.
type Tasks = { "send-welcome": { userId: number; email: string } };

const path = "./data/queue.db"; // a local file; created and migrated on first open

const client = new QueueClient<Tasks>({ path });
const { task } = await client.enqueue(
  "send-welcome",
  { userId: 42, email: "ada@example.com" },
  { idempotencyKey: "welcome-42" }, // enqueue it again (a retried request) and you get this task back
);

const worker = new Worker<Tasks>({
  path, // or another process on the same host: the file is the whole broker
  concurrency: 10,
  handleSignals: true, // Ctrl-C / SIGTERM: finish running tasks, release the rest
  handlers: {
    "send-welcome": async ({ email }, ctx) => {
      await ctx.log("info", "sending the welcome mail");
      return { sentTo: email };
    },
  },
});
await worker.start();

const done = await client.waitFor(task.id, { timeoutMs: 10_000 });
console.log(done.status, done.result); // completed { sentTo: 'ada@example.com' }

await worker.stop();
await client.close();
