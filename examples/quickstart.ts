// The quick-start example: a real queue file, tasks enqueued by a client, run by a worker under
// leases (with one retry after a failure), and the outcome read back.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueClient } from "@queue/client";
import { Worker } from "@queue/worker-engine";

type Tasks = {
  greet: { name: string };
  "flaky-sum": { numbers: number[] };
};

const path = process.env.QUEUE_DB_PATH ?? join(mkdtempSync(join(tmpdir(), "queue-demo-")), "queue.db");
const client = new QueueClient<Tasks>({ path });
console.log(`Queue database: ${client.db.path}\n`);

// Concurrent enqueues made together share one transaction (group commit).
const names = ["Ada", "Grace", "Edsger", "Barbara", "Donald"];
const greetings = await Promise.all(names.map((name, index) => client.enqueue("greet", { name }, { priority: index % 3 })));
const sum = await client.enqueue("flaky-sum", { numbers: [1, 2, 3, 4] }, { idempotencyKey: "sum-1" });
const again = await client.enqueue("flaky-sum", { numbers: [9] }, { idempotencyKey: "sum-1" });
console.log(
  `Enqueued ${greetings.length + 1} tasks; the repeated idempotency key returned task #${again.task.id} again (created: ${again.created}).`,
);

let failOnce = true;
const worker = new Worker<Tasks>({
  db: client.db,
  concurrency: 2,
  strategy: "priority",
  backoff: { initialDelayMs: 10, jitter: 0 },
  handlers: {
    greet: async ({ name }, ctx) => {
      await ctx.log("info", `greeting ${name}`);
      return { message: `Hello, ${name}!` };
    },
    "flaky-sum": ({ numbers }) => {
      if (failOnce) {
        failOnce = false;
        throw new Error("a transient failure, retried with backoff");
      }
      return numbers.reduce((total, n) => total + n, 0);
    },
  },
});
worker.on("completed", (task, result) =>
  console.log(`  #${task.id} ${task.type} (priority ${task.priority}, attempt ${task.attempts}) -> ${JSON.stringify(result)}`),
);
worker.on("retried", (task) => console.log(`  #${task.id} ${task.type} failed: ${task.error?.message}; retrying`));

await worker.start();
const final = await client.waitFor(sum.task.id, { timeoutMs: 10_000 });
for (const { task } of greetings) await client.waitFor(task.id, { timeoutMs: 10_000 });
await worker.stop();

console.log(`\nTask #${final.id} ended ${final.status} after ${final.attempts} attempts with result ${JSON.stringify(final.result)}.`);
console.log(`Status counts: ${JSON.stringify(await client.counts())}`);
await client.close();
