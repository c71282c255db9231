// The PostgreSQL server reliability runs use: the shared test server (each run in a schema of its
// own, dropped afterwards), or a private cluster the test starts, restarts and removes itself, for
// faults that would disturb every other user of a shared server.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { splitPostgresLocation } from "./chaos-storage.js";

/** The shared test server (trust auth on loopback), as the postgres package's tests use it. */
export const POSTGRES_TEST_URL = process.env.QUEUE_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** A location on `url` in a schema no other run uses (created by the first store that opens it). */
export function freshSchemaLocation(url: string, prefix: string): string {
  const location = new URL(url);
  location.searchParams.set("schema", `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 12)}`);
  return location.toString();
}

/** Drops the schema a location names, with everything in it. */
export async function dropSchema(location: string): Promise<void> {
  const { url, schema } = splitPostgresLocation(location);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Runs one statement as the server's admin on `url` (a fresh connection each time). */
export async function adminQuery<Row extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: splitPostgresLocation(url).url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The directory of the newest installed server's binaries (initdb, pg_ctl), or QUEUE_TEST_PG_BINDIR. */
function serverBinaries(): string {
  const given = process.env.QUEUE_TEST_PG_BINDIR;
  if (given !== undefined) return given;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(a) - Number(b)) : [];
  const newest = versions.at(-1);
  if (newest === undefined || !existsSync(join(root, newest, "bin", "pg_ctl"))) {
    throw new Error(`No PostgreSQL server binaries under ${root}; set QUEUE_TEST_PG_BINDIR to the directory holding initdb and pg_ctl.`);
  }
  return join(root, newest, "bin");
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory, listening on a free loopback
 * port only (and a socket in its directory). The server refuses to run as root: as root, it runs
 * as the `postgres` user. Nothing outside its directory is touched.
 */
export class PrivateCluster {
  readonly url: string;
  readonly #dir: string;
  readonly #bin: string;
  readonly #owner: { uid: number; gid: number } | undefined;

  private constructor(dir: string, port: number, bin: string, owner: { uid: number; gid: number } | undefined) {
    this.#dir = dir;
    this.#bin = bin;
    this.#owner = owner;
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }

  /** Creates the cluster and starts it. */
  static async create(): Promise<PrivateCluster> {
    const bin = serverBinaries();
    const owner =
      process.getuid?.() === 0
        ? {
            uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()),
            gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim()),
          }
        : undefined;
    const dir = mkdtempSync(join(tmpdir(), "queue-pg-cluster-"));
    if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
    const cluster = new PrivateCluster(dir, await freePort(), bin, owner);
    cluster.#run("initdb", ["-D", join(dir, "data"), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"]);
    const port = new URL(cluster.url).port;
    writeFileSync(
      join(dir, "data", "postgresql.auto.conf"),
      [
        `port = ${port}`,
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${dir}'`,
        "fsync = off",
        "max_connections = 100",
        "",
      ].join("\n"),
    );
    cluster.start();
    return cluster;
  }

  #run(tool: string, args: string[]): void {
    execFileSync(join(this.#bin, tool), args, {
      stdio: ["ignore", "pipe", "pipe"],
      cwd: this.#dir,
      ...(this.#owner === undefined ? {} : { uid: this.#owner.uid, gid: this.#owner.gid }),
    });
  }

  /** Starts the server and waits until it accepts connections. */
  start(): void {
    this.#run("pg_ctl", ["-D", join(this.#dir, "data"), "-l", join(this.#dir, "server.log"), "-w", "-t", "60", "start"]);
  }

  /** Stops the server: "fast" ends every session (57P01) and shuts down cleanly; "immediate" is a crash, recovered at the next start. */
  stop(mode: "fast" | "immediate" = "fast"): void {
    this.#run("pg_ctl", ["-D", join(this.#dir, "data"), "-m", mode, "-w", "-t", "60", "stop"]);
  }

  /** Stops the server (if it runs) and removes its directory. */
  destroy(): void {
    try {
      this.stop("immediate");
    } catch {
      // Not running.
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
