import { isQueueError } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { enqueueInTransaction, PostgresStore } from "../src/index.js";
import { freshSchema, openStore, TEST_URL } from "./helpers.js";

/** The application's own pool: the queue's functions only ever see one of its connections. */
const appPool = new pg.Pool({ connectionString: TEST_URL, max: 4 });
afterAll(() => appPool.end());

/** Runs `work` in a transaction on one of the application's connections: committed if it resolves, rolled back if it throws. */
async function inAppTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await appPool.connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

describe("enqueueInTransaction on PostgreSQL", () => {
  it("a task enqueued in a committed transaction is stored with the application's rows, and wakes a waiting worker at commit", async () => {
    const store = await openStore();
    await appPool.query(`CREATE TABLE ${store.schema}.orders (id integer PRIMARY KEY)`);
    // A worker that would not poll again for a minute: only the NOTIFY sent at commit can wake it.
    const workerStore = await PostgresStore.open({ url: TEST_URL, schema: store.schema });
    const done: number[] = [];
    let finished: () => void = () => {};
    const ran = new Promise<void>((resolve) => (finished = resolve));
    const worker = new Worker({
      store: workerStore,
      pollIntervalMs: 60_000,
      handlers: {
        "send-receipt": (payload) => {
          done.push((payload as { orderId: number }).orderId);
          finished();
        },
      },
    });
    await worker.start();
    try {
      await new Promise((resolve) => setTimeout(resolve, 200)); // the worker has claimed nothing and waits
      const result = await inAppTransaction(async (client) => {
        await client.query(`INSERT INTO ${store.schema}.orders (id) VALUES (7)`);
        const enqueued = await enqueueInTransaction(client, "send-receipt", { orderId: 7 }, { priority: 2 }, { schema: store.schema });
        // Not visible to anyone else before the commit.
        expect(await store.getTask(enqueued.task.id)).toBeUndefined();
        return enqueued;
      });
      expect(result.created).toBe(true);
      expect(result.task).toMatchObject({ type: "send-receipt", payload: { orderId: 7 }, priority: 2, status: "queued" });
      const committedAt = performance.now();
      await ran;
      expect(performance.now() - committedAt).toBeLessThan(5_000);
      expect(done).toEqual([7]);
      expect((await store.getTask(result.task.id))?.type).toBe("send-receipt");
    } finally {
      await worker.stop();
      await workerStore.close();
    }
  });

  it("a rolled-back transaction leaves no task and wakes nobody", async () => {
    const store = await openStore();
    const peer = await PostgresStore.open({ url: TEST_URL, schema: store.schema });
    try {
      await peer.writeMark(); // listening
      let woken = 0;
      const stop = peer.onWork(() => {
        woken += 1;
      });
      const failure = await inAppTransaction(async (client) => {
        await enqueueInTransaction(client, "send-receipt", { orderId: 8 }, {}, { schema: store.schema });
        throw new Error("the order could not be saved");
      }).catch((error: unknown) => error);
      expect((failure as Error).message).toBe("the order could not be saved");
      expect(await store.countTasksByStatus()).toMatchObject({ queued: 0 });
      expect(await store.listTasks({ limit: 10, order: "oldest" })).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      stop();
      expect(woken).toBe(0);
    } finally {
      await peer.close();
    }
  });

  it("an idempotency key already stored returns that task, and validation is the client's", async () => {
    const store = await openStore();
    const first = await inAppTransaction((client) =>
      enqueueInTransaction(client, "charge", { cents: 100 }, { idempotencyKey: "order-9" }, { schema: store.schema }),
    );
    const second = await inAppTransaction((client) =>
      enqueueInTransaction(client, "charge", { cents: 999 }, { idempotencyKey: "order-9" }, { schema: store.schema }),
    );
    expect(first.created).toBe(true);
    expect(second).toMatchObject({ created: false, task: { id: first.task.id, payload: { cents: 100 } } });
    const client = await appPool.connect();
    try {
      const invalid = await enqueueInTransaction(client, "*", {}, {}, { schema: store.schema }).catch((error: unknown) => error);
      expect(isQueueError(invalid, "INVALID_ARGUMENT")).toBe(true);
      const unknownOption = await enqueueInTransaction(client, "x", {}, { delay: 5 } as never, { schema: store.schema }).catch(
        (error: unknown) => error,
      );
      expect(isQueueError(unknownOption, "INVALID_ARGUMENT")).toBe(true);
    } finally {
      client.release();
    }
  });

  it("a schema with no queue tables yet is a typed error that says how to create them", async () => {
    const schema = freshSchema();
    const client = await appPool.connect();
    try {
      const error = await enqueueInTransaction(client, "x", {}, {}, { schema }).catch((thrown: unknown) => thrown);
      expect(isQueueError(error, "INVALID_STATE")).toBe(true);
      expect((error as Error).message).toMatch(/open a store on it once/);
    } finally {
      client.release();
    }
  });
});
