// A PostgreSQL schema of its own for each run of a PostgreSQL peer (and of our own PostgreSQL
// backend), dropped afterwards; only on the loopback server, in the `test` database.
import pg from "pg";
import { POSTGRES, POSTGRES_URL, requireService } from "./availability.js";

let runs = 0;

/** Runs `use` with a fresh schema name (created by the peer itself) and drops the schema after. */
export async function withSchema<T>(peer: string, use: (schema: string) => Promise<T>): Promise<T> {
  await requireService(POSTGRES);
  const schema = `queue_bench_${peer}_${process.pid}_${runs++}`;
  try {
    return await use(schema);
  } finally {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } finally {
      await client.end();
    }
  }
}
