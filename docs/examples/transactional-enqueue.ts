import { enqueueInTransaction } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import Database from "better-sqlite3";

// The application's own connection to the same file: the order and its receipt task commit together.
const app = new Database("./data/app.db");
const queue = openQueueDatabase({ connection: app });
app.exec("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, total INTEGER NOT NULL)");

export const placeOrder = app.transaction((total: number) => {
  const { lastInsertRowid } = app.prepare("INSERT INTO orders (total) VALUES (?)").run(total);
  enqueueInTransaction(queue, "send-receipt", { orderId: Number(lastInsertRowid) });
});
