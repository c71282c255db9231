// Where a PostgreSQL store keeps its tasks: a connection URL (whose `schema=NAME` query parameter
// picks the schema, default `queue`) or a Pool the application already has.
import { QueueError } from "@queue/core";
import type pg from "pg";

/** The schema a store uses when its URL names none. */
export const DEFAULT_SCHEMA = "queue";

/** Schema names the store accepts: a plain identifier, short enough to leave room for its NOTIFY channel. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

export interface ParsedLocation {
  /** The URL to connect with: the given one without the `schema` parameter. */
  readonly connectionString: string;
  readonly schema: string;
  /** The URL as messages show it: no password, the schema always named. */
  readonly location: string;
}

/** Splits a postgres:// URL into what to connect with, the schema, and the location to show. */
export function parseLocation(url: string, schemaOption?: string): ParsedLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (error) {
    throw new QueueError("INVALID_CONFIG", `${redactPassword(url)} is not a valid PostgreSQL URL (postgres://user@host:5432/database).`, {
      cause: error,
    });
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new QueueError("INVALID_CONFIG", `${redactPassword(url)} is not a postgres:// or postgresql:// URL.`);
  }
  const schema = checkSchemaName(schemaOption ?? parsed.searchParams.get("schema") ?? DEFAULT_SCHEMA);
  parsed.searchParams.delete("schema");
  const connectionString = parsed.toString();
  const shown = new URL(connectionString);
  shown.password = "";
  shown.searchParams.set("schema", schema);
  return { connectionString, schema, location: shown.toString() };
}

/** The location of a store on a Pool it was given: the pool's server and database, without a password. */
export function poolLocation(pool: pg.Pool, schema: string): string {
  const options = pool.options;
  if (typeof options.connectionString === "string") return parseLocation(options.connectionString, schema).location;
  const user = options.user ?? process.env.PGUSER ?? "";
  const host = options.host ?? process.env.PGHOST ?? "localhost";
  const port = options.port ?? process.env.PGPORT ?? 5432;
  const database = options.database ?? process.env.PGDATABASE ?? user;
  const shown = new URL(`postgres://${host}:${port}/${encodeURIComponent(database)}`);
  shown.username = user;
  shown.searchParams.set("schema", schema);
  return shown.toString();
}

/** Checks a schema name (it is written into SQL as an identifier) and returns it. */
export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new QueueError(
      "INVALID_CONFIG",
      `Invalid schema ${JSON.stringify(schema)}: use letters, digits and underscores (not first), at most 48 characters.`,
      { details: { option: "schema" } },
    );
  }
  return schema;
}

/** The identifier as SQL text. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function redactPassword(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}
