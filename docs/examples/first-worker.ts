import { Worker } from "@queue/worker-engine";
import type { Results, Tasks } from "./first-tasks.js";

const worker = new Worker<Tasks, Results>({
  path: "./data/queue.db",
  concurrency: 4,
  handleSignals: true, // Ctrl+C or SIGTERM: running tasks finish, then the worker stops
  handlers: {
    "send-welcome-email": async ({ to, name }, ctx) => {
      await ctx.log("info", `welcoming ${name}`, { to });
      return { messageId: `msg-${ctx.task.id}` }; // stored as the task's result
    },
  },
});
worker.on("completed", (task) => console.log(`task ${task.id} completed`));
worker.on("dead-lettered", (task, error) => console.error(`task ${task.id} gave up: ${error}`));
await worker.start();
console.log("worker running; Ctrl+C stops it");
