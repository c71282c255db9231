import { enqueueInTransaction } from "@queue/postgres";
import pg from "pg";

// The application's own pool: the order and its receipt task commit (or roll back) together.
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });

export async function placeOrder(total: number): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ id: number }>("INSERT INTO orders (total) VALUES ($1) RETURNING id", [total]);
    const orderId = rows[0]?.id as number;
    // Validated as QueueClient.enqueue validates; workers are woken when the transaction commits.
    await enqueueInTransaction(client, "send-receipt", { orderId }, { maxAttempts: 5 }, { schema: "queue" });
    await client.query("COMMIT");
    return orderId;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}
