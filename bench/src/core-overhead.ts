// QueueDatabase.transaction() and transactionSync() doing one-row inserts, for the core-overhead
// scenario (the bare better-sqlite3 side is rawSingleInserts).
import { performance } from "node:perf_hooks";
import { openQueueDatabase } from "@queue/core";
import { PAYLOAD } from "./raw.js";

const INSERT = "INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('bench', ?, ?, ?, ?)";

/** Transactions per second through the queue's transaction API. */
export async function timeQueueTransactions(path: string, rows: number, mode: "async" | "sync"): Promise<number> {
  const db = openQueueDatabase({ path });
  const insert = () => {
    const now = db.clock.now();
    db.statement(INSERT).run(PAYLOAD, now, now, now);
  };
  const started = performance.now();
  if (mode === "async") for (let i = 0; i < rows; i++) await db.transaction(insert);
  else for (let i = 0; i < rows; i++) db.transactionSync(insert);
  const elapsed = performance.now() - started;
  db.close();
  return (rows / elapsed) * 1000;
}
