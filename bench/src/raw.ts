// The raw limit: the same SQL work as the queue does, with bare better-sqlite3 statements on a
// file with the same schema and PRAGMAs, and nothing else. Each function returns operations/second.
import { performance } from "node:perf_hooks";
import { openQueueDatabase, PRODUCTION_PRAGMAS } from "@queue/core";
import Database from "better-sqlite3";

export const PAYLOAD = JSON.stringify({ to: "someone@example.com", subject: "hello", attempt: 1 });
const INSERT = "INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('bench', ?, ?, ?, ?)";

/** A migrated file, then a bare connection to it with the production PRAGMAs. */
export function rawConnection(path: string): Database.Database {
  openQueueDatabase({ path }).close();
  const connection = new Database(path);
  connection.pragma("journal_mode = wal");
  connection.pragma(`synchronous = ${PRODUCTION_PRAGMAS.synchronous}`);
  connection.pragma(`busy_timeout = ${PRODUCTION_PRAGMAS.busyTimeoutMs}`);
  return connection;
}

/** One INSERT per transaction. */
export function rawSingleInserts(path: string, rows: number): number {
  const connection = rawConnection(path);
  const begin = connection.prepare("BEGIN IMMEDIATE");
  const insert = connection.prepare(INSERT);
  const commit = connection.prepare("COMMIT");
  const started = performance.now();
  for (let i = 0; i < rows; i++) {
    const now = Date.now();
    begin.run();
    insert.run(PAYLOAD, now, now, now);
    commit.run();
  }
  const elapsed = performance.now() - started;
  connection.close();
  return (rows / elapsed) * 1000;
}

/** `batch` INSERTs per transaction. */
export function rawBatchedInserts(path: string, rows: number, batch: number): number {
  const connection = rawConnection(path);
  const insert = connection.prepare(INSERT);
  const insertMany = connection.transaction((count: number) => {
    const now = Date.now();
    for (let i = 0; i < count; i++) insert.run(PAYLOAD, now, now, now);
  });
  const started = performance.now();
  for (let done = 0; done < rows; done += batch) insertMany.immediate(Math.min(batch, rows - done));
  const elapsed = performance.now() - started;
  connection.close();
  return (rows / elapsed) * 1000;
}

/** Fills a migrated file with `rows` queued tasks (not timed). */
export function fillQueue(path: string, rows: number): void {
  const connection = rawConnection(path);
  const insert = connection.prepare(INSERT);
  connection.transaction(() => {
    const now = Date.now();
    for (let i = 0; i < rows; i++) insert.run(PAYLOAD, now, now, now);
  })();
  connection.close();
}

/**
 * Processing at the limit: claim `batch` tasks in one UPDATE ... RETURNING, then mark them all
 * completed in one transaction, until the queue is empty. Tasks/second.
 */
export function rawClaimComplete(path: string, rows: number, batch: number): number {
  fillQueue(path, rows);
  const connection = rawConnection(path);
  const claim = connection.prepare(
    `UPDATE tasks SET status = 'leased', lease_token = ?, locked_by = 'raw', lease_until = ?, attempts = attempts + 1, started_at = ?, updated_at = ?
     WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_queued_by_priority WHERE status = 'queued' AND run_after <= ? ORDER BY priority, run_after, id LIMIT ?)
     RETURNING id`,
  );
  const complete = connection.prepare(
    `UPDATE tasks SET status = 'completed', result = 'null', finished_at = ?, updated_at = ?, lease_token = NULL, lease_until = NULL, locked_by = NULL
     WHERE id = ? AND lease_token = ?`,
  );
  const claimBatch = connection.transaction((token: string) => {
    const now = Date.now();
    return claim.all(token, now + 30_000, now, now, now, batch) as { id: number }[];
  });
  const completeBatch = connection.transaction((ids: { id: number }[], token: string) => {
    const now = Date.now();
    for (const { id } of ids) complete.run(now, now, id, token);
  });
  const started = performance.now();
  let processed = 0;
  for (let round = 0; ; round++) {
    const token = `t${round}`;
    const ids = claimBatch.immediate(token);
    if (ids.length === 0) break;
    completeBatch.immediate(ids, token);
    processed += ids.length;
  }
  const elapsed = performance.now() - started;
  connection.close();
  if (processed !== rows) throw new Error(`raw processing completed ${processed} of ${rows}`);
  return (rows / elapsed) * 1000;
}
