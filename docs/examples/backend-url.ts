import { QueueClient } from "@queue/client";
import { Worker } from "@queue/worker-engine";

// One line decides the backend: a file path is SQLite, a postgres:// URL is PostgreSQL
// (?schema=NAME picks the schema, default "queue"; install @queue/postgres beside the other packages).
const url = process.env.QUEUE_DB_URL ?? "postgres://app@db.internal:5432/app?schema=queue";

const client = new QueueClient({ url }); // or { path: "./data/queue.db" } for SQLite
await client.enqueue("send-email", { to: "ada@example.com" }, { maxAttempts: 5 });

// Workers on any number of hosts point at the same URL; each claim is FOR UPDATE SKIP LOCKED.
const worker = new Worker({
  url,
  concurrency: 20,
  handleSignals: true,
  handlers: { "send-email": async (payload, ctx) => ctx.log("info", "sending", payload) },
});
await worker.start();
