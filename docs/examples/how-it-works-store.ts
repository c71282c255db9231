import { QueueClient } from "@queue/client";
import { SqliteStore } from "@queue/core";

/** A client on a store: the same calls whatever backend the store is. Returns the new task's id. */
export async function enqueueThroughAStore(path: string): Promise<number> {
  const store = SqliteStore.open({ path }); // or: new QueueClient({ path }), which opens this store itself
  const client = new QueueClient({ store });
  try {
    const { task } = await client.enqueue("send-email", { to: "ada@example.com" });
    return task.id;
  } finally {
    await client.close();
    await store.close();
  }
}
