// How a reliability run reads the queue it tested, beside the engine (a raw connection, never the
// store under test): a SQLite file, or a schema of a PostgreSQL database.
import { isServerLocation } from "@queue/core";
import Database from "better-sqlite3";
import pg from "pg";

/** One task as the verdicts need it. */
export interface TaskRecord {
  readonly id: number;
  readonly status: string;
  readonly attempts: number;
  readonly result: string | null;
  readonly idempotency_key: string | null;
}

export interface QueueReader {
  /** Tasks queued or leased. */
  pending(): Promise<number>;
  /** Tasks in `status`. */
  count(status: string): Promise<number>;
  /** Every task, by id. */
  tasks(): Promise<TaskRecord[]>;
  /**
   * "ok", or what is wrong: SQLite's integrity_check; on PostgreSQL, rows that break the lease
   * rule (a lease exactly while leased) or finished_at (set exactly in a final status).
   */
  integrity(): Promise<string>;
  close(): Promise<void>;
}

const TASKS_SQL = "SELECT id, status, attempts, result, idempotency_key FROM tasks ORDER BY id";

/** A reader for a SQLite file or a postgres:// URL whose `schema` parameter names the queue's schema. */
export function openQueueReader(location: string): QueueReader {
  return isServerLocation(location) ? postgresReader(location) : sqliteReader(location);
}

function sqliteReader(path: string): QueueReader {
  const db = new Database(path);
  return {
    async pending() {
      return db.prepare("SELECT count(*) AS n FROM tasks WHERE status IN ('queued', 'leased')").pluck().get() as number;
    },
    async count(status) {
      return db.prepare("SELECT count(*) AS n FROM tasks WHERE status = ?").pluck().get(status) as number;
    },
    async tasks() {
      return db.prepare(TASKS_SQL).all() as TaskRecord[];
    },
    async integrity() {
      return String(db.pragma("integrity_check", { simple: true }));
    },
    async close() {
      db.close();
    },
  };
}

/** The URL to connect with and the schema a postgres:// location names (default `queue`). */
export function splitPostgresLocation(location: string): { url: string; schema: string } {
  const parsed = new URL(location);
  const schema = parsed.searchParams.get("schema") ?? "queue";
  parsed.searchParams.delete("schema");
  return { url: parsed.toString(), schema };
}

function postgresReader(location: string): QueueReader {
  const { url, schema } = splitPostgresLocation(location);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on("error", () => undefined);
  const table = `"${schema.replaceAll('"', '""')}".tasks`;
  const count = async (where: string, values: unknown[] = []) =>
    Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`, values)).rows[0]?.n ?? 0);
  return {
    pending: () => count("status IN ('queued', 'leased')"),
    count: (status) => count("status = $1", [status]),
    async tasks() {
      const { rows } = await pool.query<TaskRecord & { id: string; attempts: string }>(TASKS_SQL.replace("tasks", table));
      return rows.map((row) => ({ ...row, id: Number(row.id), attempts: Number(row.attempts) }));
    },
    async integrity() {
      const leases = await count("(status = 'leased') <> (lease_token IS NOT NULL AND locked_by IS NOT NULL AND lease_until IS NOT NULL)");
      const finished = await count("(status IN ('completed', 'dead_letter', 'cancelled')) <> (finished_at IS NOT NULL)");
      return leases + finished === 0 ? "ok" : `${leases} rows break the lease rule, ${finished} the finished_at rule`;
    },
    close: () => pool.end(),
  };
}
