import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { makeTempDir, removeTempDirs, runTypeScript, tempDbPath } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";
import {
  isQueueError,
  isServerLocation,
  openQueueDatabase,
  openQueueStore,
  redactLocation,
  resolveDatabasePath,
  resolveStoreLocation,
  SqliteStore,
} from "../src/index.js";

const CORE = pathToFileURL(join(import.meta.dirname, "..", "src", "index.ts")).href;

/** A directory holding node_modules/@queue/postgres: a stand-in whose store says where it was loaded from. */
function fakeBackendDirectory(): string {
  const dir = makeTempDir();
  const pkg = join(dir, "node_modules", "@queue", "postgres");
  mkdirSync(pkg, { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "@queue/postgres", version: "0.0.0", main: "index.cjs" }));
  writeFileSync(
    join(pkg, "index.cjs"),
    "exports.openStore = (options) => ({ backend: 'fake', location: options.url, from: __dirname, close: async () => {} });\n",
  );
  return dir;
}

/** A script that opens a postgres:// location through core and prints the store's backend (or the error). */
function openerScript(dir: string): string {
  const script = join(dir, "open.mts");
  writeFileSync(
    script,
    [
      `import { openQueueStore } from ${JSON.stringify(CORE)};`,
      "try {",
      '  const store = openQueueStore({ location: "postgres://127.0.0.1:1/test" });',
      "  console.log(store.backend);",
      "} catch (error) {",
      '  console.log(error.code + ": " + error.message);',
      "}",
    ].join("\n"),
  );
  return script;
}

afterEach(removeTempDirs);

describe("a location picks the store", () => {
  it("a file path opens a SQLite store, creating the file", async () => {
    const path = tempDbPath();
    const store = openQueueStore({ location: path });
    expect(store).toBeInstanceOf(SqliteStore);
    expect(store.backend).toBe("sqlite");
    expect(store.location).toBe(path);
    await store.close();
  });

  it("a postgres URL without @queue/postgres installed is refused with what to install, never showing the password", () => {
    for (const location of ["postgres://app:s3cret@db.example:5432/jobs", "postgresql://app:s3cret@db.example/jobs?schema=queue"]) {
      expect(isServerLocation(location)).toBe(true);
      let error: unknown;
      try {
        openQueueStore({ location });
      } catch (thrown) {
        error = thrown;
      }
      expect(isQueueError(error, "INVALID_CONFIG")).toBe(true);
      expect((error as Error).message).toMatch(/is a PostgreSQL URL, and @queue\/postgres is not installed.*npm install @queue\/postgres/);
      expect((error as Error).message).not.toContain("s3cret");
    }
  });

  it("QUEUE_DB_PATH or --db may be a URL, kept as it is; passwords are redacted for messages", () => {
    const url = "postgres://app:s3cret@127.0.0.1/test?schema=demo";
    expect(resolveDatabasePath({ path: url })).toBe(url);
    expect(resolveDatabasePath({ env: { QUEUE_DB_PATH: url } })).toBe(url);
    expect(redactLocation(url)).toBe("postgres://app:***@127.0.0.1/test?schema=demo");
    expect(redactLocation("postgres://127.0.0.1/test")).toBe("postgres://127.0.0.1/test");
    expect(isServerLocation("./data/queue.db")).toBe(false);
  });

  it("@queue/postgres installed by the application (not beside core) is found from the working directory", async () => {
    const app = fakeBackendDirectory();
    const result = await runTypeScript(openerScript(makeTempDir()), [], { cwd: app });
    expect(result.stdout.trim()).toBe("fake");
  });

  it("... and from the main script's directory, when the working directory is elsewhere", async () => {
    const app = fakeBackendDirectory();
    const result = await runTypeScript(openerScript(app), [], { cwd: makeTempDir() });
    expect(result.stdout.trim()).toBe("fake");
  });

  it("found nowhere, it is still the clear 'install @queue/postgres' error", async () => {
    const result = await runTypeScript(openerScript(makeTempDir()), [], { cwd: makeTempDir() });
    expect(result.stdout.trim()).toMatch(/^INVALID_CONFIG: .*@queue\/postgres is not installed/);
  });
});

describe("library options name a location", () => {
  it("url or path, a URL in either (or in QUEUE_DB_PATH) kept as it is; both at once, or a url that is a file, are INVALID_CONFIG", () => {
    const url = "postgres://app@127.0.0.1/test?schema=jobs";
    expect(resolveStoreLocation({ url }, "QueueClient")).toBe(url);
    expect(resolveStoreLocation({ path: url }, "QueueClient")).toBe(url);
    const file = tempDbPath();
    expect(resolveStoreLocation({ path: file }, "QueueClient")).toBe(file);
    const both = (() => {
      try {
        return resolveStoreLocation({ url, path: file }, "Worker");
      } catch (error) {
        return error;
      }
    })();
    expect(isQueueError(both, "INVALID_CONFIG")).toBe(true);
    expect((both as Error).message).toMatch(/Give Worker either url or path, not both/);
    expect(() => resolveStoreLocation({ url: file }, "QueueClient")).toThrow(/url must be a postgres:\/\/ or postgresql:\/\/ URL/);
  });

  it("openQueueDatabase refuses a PostgreSQL URL (SQLite only) and never creates a file or directory named after it", () => {
    const before = existsSync(join(process.cwd(), "postgres:"));
    let error: unknown;
    try {
      openQueueDatabase({ path: "postgres://app:s3cret@127.0.0.1/test" });
    } catch (thrown) {
      error = thrown;
    }
    expect(isQueueError(error, "INVALID_CONFIG")).toBe(true);
    expect((error as Error).message).toMatch(/is a PostgreSQL URL, not a SQLite file.*openQueueStore/);
    expect((error as Error).message).not.toContain("s3cret");
    expect(existsSync(join(process.cwd(), "postgres:"))).toBe(before);
  });
});
