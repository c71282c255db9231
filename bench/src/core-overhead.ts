// How much does QueueDatabase.transaction() cost over bare better-sqlite3 for a one-row insert?
// Each variant inserts the same rows into its own fresh file with the same PRAGMAs; rounds are
// interleaved so machine noise falls on all variants alike.

import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openQueueDatabase, PRODUCTION_PRAGMAS, type QueueDatabase } from "@queue/core";
import Database from "better-sqlite3";
import { type Summary, summarize } from "./stats.js";

const INSERT = "INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES (?, ?, ?, ?, ?)";
const PAYLOAD = JSON.stringify({ to: "someone@example.com", subject: "hello" });

type Variant = (path: string, rows: number) => Promise<number>;

/** Raw: prepared BEGIN IMMEDIATE / INSERT / COMMIT statements on a bare connection. */
const raw: Variant = async (path, rows) => {
  openQueueDatabase({ path }).close();
  const connection = new Database(path);
  connection.pragma("journal_mode = wal");
  connection.pragma(`synchronous = ${PRODUCTION_PRAGMAS.synchronous}`);
  const begin = connection.prepare("BEGIN IMMEDIATE");
  const insert = connection.prepare(INSERT);
  const commit = connection.prepare("COMMIT");
  const started = performance.now();
  for (let i = 0; i < rows; i++) {
    const now = Date.now();
    begin.run();
    insert.run("bench", PAYLOAD, now, now, now);
    commit.run();
  }
  const elapsed = performance.now() - started;
  connection.close();
  return elapsed;
};

/** Times `rows` one-row insert transactions made through an open QueueDatabase. */
async function timeQueueInserts(path: string, rows: number, write: (db: QueueDatabase, insert: () => void) => unknown): Promise<number> {
  const db = openQueueDatabase({ path });
  const insert = () => {
    const now = db.clock.now();
    db.statement(INSERT).run("bench", PAYLOAD, now, now, now);
  };
  const started = performance.now();
  for (let i = 0; i < rows; i++) await write(db, insert);
  const elapsed = performance.now() - started;
  db.close();
  return elapsed;
}

/** The queue's transaction(), awaited one at a time. */
const queueAsync: Variant = (path, rows) => timeQueueInserts(path, rows, (db, insert) => db.transaction(insert));

/** The queue's transactionSync(). */
const queueSync: Variant = (path, rows) => timeQueueInserts(path, rows, (db, insert) => db.transactionSync(insert));

export interface OverheadResult {
  readonly rows: number;
  readonly rounds: number;
  readonly variants: Record<string, { readonly opsPerSecond: Summary; readonly ratioToRaw: number }>;
}

export async function measureTransactionOverhead(directory: string, rows: number, rounds: number): Promise<OverheadResult> {
  const variants: Record<string, Variant> = { raw, "transaction()": queueAsync, "transactionSync()": queueSync };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const [name, variant] of Object.entries(variants)) {
      const elapsed = await variant(join(directory, `overhead-${round}-${name.replace(/\W/g, "")}.db`), rows);
      samples[name]?.push((rows / elapsed) * 1000);
    }
  }
  const rawMedian = summarize(samples.raw ?? []).median;
  const result: OverheadResult["variants"] = {};
  for (const [name, list] of Object.entries(samples)) {
    const opsPerSecond = summarize(list);
    result[name] = { opsPerSecond, ratioToRaw: opsPerSecond.median / rawMedian };
  }
  return { rows, rounds, variants: result };
}
