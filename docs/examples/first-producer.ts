import { QueueClient } from "@queue/client";
import type { Results, Tasks } from "./first-tasks.js";

const client = new QueueClient<Tasks, Results>({ path: "./data/queue.db" });
const { task } = await client.enqueue("send-welcome-email", { to: "ada@example.com", name: "Ada" }, { maxAttempts: 5 });
console.log(`enqueued task ${task.id} (${task.type})`);
await client.close();
