import { QueueClient } from "@queue/client";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { openTemp } from "./helpers.js";

describe("group commit", () => {
  it("a failure after the commit fails only that item and never writes the others twice", async () => {
    const { db } = openTemp();
    // An existing row whose payload cannot be decoded: returning it for its idempotency key fails after the commit.
    db.connection
      .prepare(
        "INSERT INTO tasks (type, payload, idempotency_key, run_after, created_at, updated_at) VALUES ('t', '{broken', 'k', 0, 0, 0)",
      )
      .run();
    const client = new QueueClient({ db });
    const [fresh, existing] = await Promise.allSettled([client.enqueue("t", 1), client.enqueue("t", 2, { idempotencyKey: "k" })]);
    expect(fresh.status).toBe("fulfilled");
    expect(existing).toMatchObject({ status: "rejected", reason: { code: "INVALID_DATA" } });
    expect(db.connection.prepare("SELECT count(*) AS n FROM tasks").get()).toEqual({ n: 2 });
  });

  it("commits flushes in the order they were made, and close() waits for all of them", async () => {
    const { db } = openTemp({ pragmas: { busyTimeoutMs: 0 } });
    const client = new QueueClient({ db });
    const holder = new Database(db.path);
    holder.prepare("BEGIN IMMEDIATE").run();
    const first = client.enqueue("t", "first"); // its flush retries while the lock is held
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = client.enqueue("t", "second"); // a later flush
    setTimeout(() => holder.prepare("COMMIT").run(), 60);
    await client.close();
    const [a, b] = await Promise.all([first, second]);
    expect(a.task.id).toBeLessThan(b.task.id);
    holder.close();
  });
});
