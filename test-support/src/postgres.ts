import { randomUUID } from "node:crypto";

/** The PostgreSQL server tests run on: QUEUE_TEST_POSTGRES_URL, else the loopback one. */
export const TEST_POSTGRES_URL = process.env.QUEUE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * The test server's URL with a schema no other test uses (`?schema=<prefix>_<random>`); the schema's
 * name is added to `created`, for the test to drop it afterwards.
 */
export function freshSchemaUrl(prefix: string, created: string[]): string {
  const schema = `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  created.push(schema);
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set("schema", schema);
  return url.toString();
}
