// Security properties: SQL is parameterised, files are owner-only, the metrics endpoint is local
// and token-protected, handler modules come only from the path given, payloads are data, and
// errors and logs do not repeat payloads.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { QueueClient } from "@queue/client";
import { isQueueError, openQueueDatabase, QueueError, type TaskError } from "@queue/core";
import { backup, integrityCheck, restoreBackup } from "@queue/maintenance";
import { QueueMetrics, serveMetrics, TaskLogger } from "@queue/observability";
import { PermanentError, Worker } from "@queue/worker-engine";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "../src/cli-in-process.js";
import { prototypeIsPolluted } from "../src/hostile-values.js";
import { findSqlBuiltFromValues } from "../src/security-sql-scan.js";

const dir = mkdtempSync(join(tmpdir(), "queue-security-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const freshPath = (name = "queue.db") => join(dir, `${counter++}-${name}`);
const mode = (file: string) => statSync(file).mode & 0o777;

describe("(a) SQL is parameterised", () => {
  const packagesDir = fileURLToPath(new URL("../../packages/", import.meta.url));
  const repositoryDir = fileURLToPath(new URL("../../", import.meta.url));

  /**
   * Interpolations that are provably not user values, by file and expression, each with its reason.
   * A new interpolation into SQL fails the test until it is bound as a parameter or listed here.
   */
  const ALLOWED: Record<string, string> = {
    "packages/core/src/database.ts: name": "savepoint name queue_sp_<n> from an internal depth counter",
    "packages/core/src/database.ts: this.pragmas.walAutocheckpointPages": "integer checked by resolvePragmas",
    "packages/core/src/database.ts: pages": "an integer checked by resolvePragmas, times 4, capped (Math.min)",
    "packages/core/src/checkpointer.ts: COMMITS": "the constant 0, an index into the thread's signal array (code, not SQL)",
    "packages/core/src/checkpointer.ts: STOP": "the constant 1, an index into the thread's signal array (code, not SQL)",
    "packages/core/src/checkpointer.ts: CLOSED": "the constant 2, an index into the thread's signal array (code, not SQL)",
    "packages/core/src/migrations/runner.ts: MIGRATIONS_TABLE": "table name constant",
    "packages/core/src/open.ts: settings.pragmas.busyTimeoutMs": "integer checked by resolvePragmas (PRAGMA values cannot be bound)",
    "packages/core/src/pragmas.ts: settings.busyTimeoutMs": "integer checked by resolvePragmas",
    "packages/core/src/pragmas.ts: settings.journalMode": "one of a fixed list, checked by resolvePragmas",
    "packages/core/src/pragmas.ts: settings.synchronous": "one of a fixed list, checked by resolvePragmas",
    'packages/core/src/pragmas.ts: settings.foreignKeys ? "ON" : "OFF"': "one of two literals",
    "packages/core/src/pragmas.ts: settings.tempStore": "one of a fixed list, checked by resolvePragmas",
    "packages/core/src/pragmas.ts: -settings.cacheSizeKiB": "integer checked by resolvePragmas",
    "packages/core/src/pragmas.ts: settings.mmapSizeBytes": "integer checked by resolvePragmas",
    "packages/core/src/pragmas.ts: settings.walAutocheckpointPages": "integer checked by resolvePragmas",
    "packages/core/src/sql/claim.ts: claimIndex(checked)": "one of the two index name constants, chosen by the order's first key",
    "packages/core/src/sql/claim.ts: update": "UPDATE text written in the same function",
    "packages/core/src/sql/claim.ts: source": '"tasks INDEXED BY <index name constant>"',
    "packages/core/src/sql/claim.ts: where": "conditions joined from constants (status, run_after, pause, type and capability filters)",
    "packages/core/src/sql/claim.ts: orderBy":
      "ORDER BY terms from the ORDER_TERMS constant, picked by a claim order checked by validateClaimOrder just before",
    "packages/core/src/sql/claim.ts: draw.window": "an integer from 1 to MAX_DRAW_WINDOW, checked by validateClaimOrder just before",
    "packages/core/src/sql/claim.ts: DRAW_KEYS[draw.kind]":
      "a sort key from the DRAW_KEYS constant, by a kind checked by validateClaimOrder",
    "packages/core/src/sql/claim.ts: CLAIM_RETURNING": "column list constant",
    "packages/core/src/sql/claim.ts: QUEUED_BY_RUN_AFTER_INDEX": "index name constant",
    "packages/core/src/sql/claim.ts: claimConditions(filters)":
      "conditions joined from constants (status, run_after, pause, type and capability filters)",
    "packages/core/src/sql/logs.ts: TASK_LOG_COLUMNS": "column list constant",
    "packages/core/src/sql/maintenance.ts: TASK_COLUMNS": "column list constant",
    "packages/core/src/sql/maintenance.ts: TASK_LOG_COLUMNS": "column list constant",
    "packages/core/src/sql/changes.ts: TASK_COLUMNS": "column list constant",
    "packages/core/src/sql/pauses.ts: ALL_TYPES": 'the constant "*"',
    "packages/core/src/sql/tasks.ts: TASK_COLUMNS": "column list constant",
    "packages/core/src/sql/tasks.ts: RELEASE_SET":
      "a SET clause constant; its values are bound (:status, :error, :runAfter, :refund, :now)",
    'packages/core/src/sql/tasks.ts: where.join(" AND ")':
      "conditions chosen from literals; their values are bound (:status, :type, :afterId)",
    'packages/core/src/sql/tasks.ts: where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`': "as above",
    'packages/core/src/sql/tasks.ts: query.order === "newest" ? "DESC" : "ASC"': "one of two literals",
    'packages/core/src/sql/tasks.ts: source?.from ?? "tasks"': "a table and index named in the LIST_SOURCES constant",
    "packages/core/src/sql/tasks.ts: types": "a condition literal; its values are bound (:from, :to)",
    "packages/core/src/sql/workers.ts: WORKER_COLUMNS": "column list constant",
    "packages/core/src/sqlite-admin/storage.ts: which": "PASSIVE, or the mode checked against the four checkpoint modes",
    "packages/core/src/sqlite-admin/storage.ts: maxWaitMs": "checked to be an integer >= 0 just before",
    "packages/core/src/sqlite-admin/storage.ts: configured": "the number PRAGMA busy_timeout itself returned",
    "packages/core/src/sqlite-admin/storage.ts: db.path": "error message text, not SQL",
    'packages/core/src/sqlite-admin/storage.ts: pages === undefined ? "" : `(${Math.max(0, Math.floor(pages))})`':
      "a number (Math.floor), never text",
    'packages/core/src/sqlite-admin/integrity.ts: options.quick ? "quick_check" : "integrity_check"': "one of two literals",
    "packages/core/src/sqlite-admin/integrity.ts: maxProblems": "checked to be a positive integer just before",
    "packages/core/src/sqlite-admin/query-plans.ts: sql": "EXPLAIN QUERY PLAN of the library's own statement constants",
    "packages/validation/src/checks.ts: journalMode": "message text, not SQL",
    'packages/validation/src/checks.ts: ["off", "normal", "full", "extra"][synchronous]': "message text, not SQL",
    "packages/validation/src/checks.ts: busyTimeoutMs": "message text, not SQL",
    'packages/validation/src/checks.ts: thorough ? "integrity_check" : "quick_check"': "message text, not SQL",
    "packages/postgres/src/migrations/runner.ts: POSTGRES_MIGRATIONS_TABLE": "table name constant",
    "packages/postgres/src/migrations/runner.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/migrations/runner.ts: schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/changes.ts: TASK_COLUMNS": "column list constant",
    "packages/postgres/src/sql/changes.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/claim.ts: CHANGE_STAMP": "constant expression: the writing transaction's id",
    "packages/postgres/src/sql/claim.ts: RETURNING": "column list built from the CLAIM_COLUMNS constant",
    "packages/postgres/src/sql/claim.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/claim.ts: leaseUntil": "a $n placeholder name computed from the filter count",
    "packages/postgres/src/sql/claim.ts: limit": "a $n placeholder name computed from the filter count",
    "packages/postgres/src/sql/claim.ts: order.draw.window":
      "an integer from 1 to MAX_DRAW_WINDOW, checked by validateClaimOrder just before",
    'packages/postgres/src/sql/claim.ts: orderByList(order.keys, "c")':
      "ORDER BY terms over CLAIM_ORDER_COLUMNS with ASC/DESC, from a claim order checked by validateClaimOrder",
    "packages/postgres/src/sql/claim.ts: picked": "the claim's CTE text, written in the same function from constants",
    "packages/postgres/src/sql/claim.ts: runnable(db.schema, types)":
      "conditions joined from constants (status, run_after, pauses, capabilities, types); values are $n parameters",
    "packages/postgres/src/sql/claim.ts: schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/claim.ts: token": "a $n placeholder name computed from the filter count",
    "packages/postgres/src/sql/claim.ts: where":
      "conditions joined from constants (status, run_after, pauses, capabilities, types); values are $n parameters",
    "packages/postgres/src/sql/claim.ts: workerId": "a $n placeholder name computed from the filter count",
    "packages/postgres/src/sql/leases.ts: CHANGE_STAMP": "constant expression: the writing transaction's id",
    "packages/postgres/src/sql/leases.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/logs.ts: TASK_LOG_COLUMNS": "column list constant",
    "packages/postgres/src/sql/logs.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/maintenance.ts: BELOW_NEWEST(db.schema)": "a constant condition naming the checked schema",
    "packages/postgres/src/sql/maintenance.ts: BELOW_NEWEST(s)": "a constant condition naming the checked schema",
    "packages/postgres/src/sql/maintenance.ts: CHANGE_STAMP": "constant expression: the writing transaction's id",
    "packages/postgres/src/sql/maintenance.ts: TASK_COLUMNS": "column list constant",
    "packages/postgres/src/sql/maintenance.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    'packages/postgres/src/sql/maintenance.ts: jsonField("message")': "a constant expression reading one literal field of the error JSON",
    'packages/postgres/src/sql/maintenance.ts: jsonField("name")': "a constant expression reading one literal field of the error JSON",
    "packages/postgres/src/sql/maintenance.ts: s":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/maintenance.ts: schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/metrics.ts: s":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/registry.ts: WORKER_COLUMNS": "column list constant",
    "packages/postgres/src/sql/registry.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    "packages/postgres/src/sql/tasks.ts: CHANGE_STAMP": "constant expression: the writing transaction's id",
    "packages/postgres/src/sql/tasks.ts: TASK_COLUMNS": "column list constant",
    "packages/postgres/src/sql/tasks.ts: db.schema":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    'packages/postgres/src/sql/tasks.ts: query.order === "newest" ? "DESC" : "ASC"': "one of two literals",
    "packages/postgres/src/sql/tasks.ts: s":
      "the store's schema: an identifier checked by checkSchemaName (letters, digits, underscores) and double-quoted",
    'packages/postgres/src/sql/tasks.ts: taskColumns("t")': "the TASK_COLUMNS constant, each qualified with a literal alias",
    'packages/postgres/src/sql/tasks.ts: where.join(" AND ")': "conditions from the STATUS_FILTERS constant and $n placeholders",
    'packages/postgres/src/sql/tasks.ts: where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`':
      "conditions from the STATUS_FILTERS constant and $n placeholders",
  };

  function sourceFiles(directory: string): string[] {
    return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return sourceFiles(path);
      return entry.name.endsWith(".ts") ? [path] : [];
    });
  }

  it("the scanner finds SQL built from values in planted examples, and passes parameterised SQL and messages", () => {
    const planted = [
      [`db.prepare(\`SELECT * FROM tasks WHERE id = \${id}\`).get();`, ["id"]],
      ['db.exec("DELETE FROM tasks WHERE type = \'" + type + "\'");', ['"S0" + type + "S1"']],
      ['const sql = "SELECT * FROM tasks WHERE type = " + value;', ['"S0" + value']],
      [`db.pragma(\`integrity_check(\${limit})\`);`, ["limit"]],
      [`const sql = \`UPDATE tasks SET status = 'x'\n  WHERE id IN (\${ids.join(',')})\`;`, ["ids.join(',')"]],
      ['db.prepare("SELECT * FROM tasks WHERE id = ?").get(id);', []],
      ['const COLUMNS = "a, b, " + "c";', []],
      [`throw new Error(\`Task \${id} is gone from \${path}\`);`, []],
      [`// db.exec(\`DELETE FROM tasks WHERE id = \${id}\`)`, []],
    ] as const;
    for (const [source, expected] of planted) {
      expect([...new Set(findSqlBuiltFromValues("fixture.ts", source).map((finding) => finding.expression))], source).toEqual(expected);
    }
    expect(findSqlBuiltFromValues("fixture.ts", `\n\ndb.prepare(\`SELECT * FROM t WHERE a = \${a}\`);`)[0]?.line).toBe(3);
  });

  it("every SQL statement in packages/*/src binds its values: interpolations are only allow-listed constants", () => {
    const unexplained: string[] = [];
    const used = new Set<string>();
    for (const pkg of readdirSync(packagesDir)) {
      const src = join(packagesDir, pkg, "src");
      if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) continue;
      for (const file of sourceFiles(src)) {
        const name = relative(repositoryDir, file);
        for (const finding of findSqlBuiltFromValues(name, readFileSync(file, "utf8"))) {
          const key = `${name}: ${finding.expression.replace(/\s+/g, " ")}`;
          if (ALLOWED[key] === undefined) unexplained.push(`${name}:${finding.line} ${finding.kind} ${finding.expression}`);
          else used.add(key);
        }
      }
    }
    expect(unexplained, "SQL built from values (bind them as parameters, or allow-list with a reason)").toEqual([]);
    // No stale entries: each one still matches code, so the list stays an accurate inventory.
    expect(Object.keys(ALLOWED).filter((key) => !used.has(key))).toEqual([]);
  });

  it("integrityCheck refuses a maxProblems that is not a positive integer instead of writing it into the PRAGMA", () => {
    const db = openQueueDatabase({ path: freshPath() });
    try {
      for (const maxProblems of ["tasks", "1); DROP TABLE tasks; --", 0, 1.5, Number.NaN]) {
        expect(() => integrityCheck(db, { maxProblems: maxProblems as number })).toThrow(
          expect.objectContaining({ code: "INVALID_ARGUMENT" }),
        );
      }
      expect(integrityCheck(db, { maxProblems: 5 })).toEqual({ ok: true, problems: [] });
    } finally {
      db.close();
    }
  });
});

describe("(b) files are owner-only unless configured", () => {
  it("a new database file and its -wal and -shm files are created 0600; fileMode sets another mode", async () => {
    const path = freshPath();
    const db = openQueueDatabase({ path });
    const client = new QueueClient({ db });
    await client.enqueue("t", { n: 1 });
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file), file).toBe(0o600);
    await client.close();
    db.close();
    const shared = freshPath();
    openQueueDatabase({ path: shared, fileMode: 0o640 }).close();
    expect(mode(shared)).toBe(0o640);
  });

  it("backup(), restoreBackup() and `queue backup` write 0600 files", async () => {
    const path = freshPath();
    const db = openQueueDatabase({ path });
    await new QueueClient({ db }).enqueue("t", { n: 1 });
    const copy = join(dir, "backups", `${counter++}-copy.db`);
    await backup(db, copy);
    expect(mode(copy)).toBe(0o600);
    db.close();
    const restored = freshPath("restored.db");
    await restoreBackup(copy, restored);
    expect(mode(restored)).toBe(0o600);
    const viaCli = join(dir, "backups", `${counter++}-cli.db`);
    const result = await cli(["--db", path, "backup", viaCli]);
    expect(result.code, result.stderr).toBe(0);
    expect(mode(viaCli)).toBe(0o600);
  });
});

describe("(c) the metrics endpoint", () => {
  async function get(port: number, path: string, authorization?: string): Promise<number> {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    await response.arrayBuffer();
    return response.status;
  }

  it("binds 127.0.0.1 by default", async () => {
    const db = openQueueDatabase({ path: freshPath() });
    const server = await serveMetrics({ metrics: new QueueMetrics(db), port: 0 });
    try {
      expect((server.address() as AddressInfo).address).toBe("127.0.0.1");
      const port = (server.address() as AddressInfo).port;
      expect(await get(port, "/metrics")).toBe(200);
      expect(await get(port, "/healthz")).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      db.close();
    }
  });

  it("with a token, answers 401 to requests without it or with a wrong one, and 200 with it", async () => {
    const db = openQueueDatabase({ path: freshPath() });
    const token = "s3cr3t-token";
    const server = await serveMetrics({ metrics: new QueueMetrics(db), port: 0, token });
    const port = (server.address() as AddressInfo).port;
    try {
      for (const path of ["/metrics", "/healthz", "/nowhere"]) {
        expect(await get(port, path)).toBe(401);
        expect(await get(port, path, "Bearer wrong-token!")).toBe(401);
        expect(await get(port, path, `Bearer ${token}x`)).toBe(401);
        expect(await get(port, path, token)).toBe(401);
      }
      expect(await get(port, "/metrics", `Bearer ${token}`)).toBe(200);
      expect(await get(port, "/healthz", `Bearer ${token}`)).toBe(200);
      expect(await get(port, "/nowhere", `Bearer ${token}`)).toBe(404);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      db.close();
    }
  });
});

describe("(d) handler modules are loaded only from the path given", () => {
  const marker = join(dir, "loaded-markers");
  mkdirSync(marker, { recursive: true });

  function handlersModule(name: string): string {
    const file = join(dir, name);
    writeFileSync(
      file,
      `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(join(marker, name))}, "loaded");\nexport default { echo: async (payload) => payload };\n`,
    );
    return file;
  }

  it("`queue work --handlers FILE` runs the handlers of exactly that file", async () => {
    const db = freshPath();
    openQueueDatabase({ path: db }).close();
    const module = handlersModule("handlers-given.mjs");
    const decoy = handlersModule("handlers-decoy.mjs");
    expect((await cli(["--db", db, "enqueue", "echo", '{"n":1}'])).code).toBe(0);
    const result = await cli(["--db", db, "--json", "work", "--handlers", module, "--until-empty", "--worker-id", "sec-worker"]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ completed: 1 });
    const loaded = readdirSync(marker);
    expect(loaded).toContain("handlers-given.mjs");
    expect(loaded).not.toContain("handlers-decoy.mjs");
    expect(decoy).toBeTruthy();
  });

  it("a package name, a node: builtin, a data: URL or a missing file is refused (exit 2), never resolved elsewhere", async () => {
    const db = freshPath();
    openQueueDatabase({ path: db }).close();
    for (const handlers of ["fast-check", "node:child_process", "data:text/javascript,export default {}", join(dir, "missing.mjs")]) {
      const result = await cli(["--db", db, "work", "--handlers", handlers, "--until-empty"]);
      expect(result.code, handlers).toBe(2);
      expect(result.stderr).toMatch(/does not exist/);
    }
  });
});

describe("(e) payloads are never evaluated", () => {
  it("code-like and prototype-attack payloads, from the client and the CLI, reach the handler as data", async () => {
    const path = freshPath();
    const db = openQueueDatabase({ path });
    const client = new QueueClient({ db });
    const code = '"); process.exit(1); //';
    const attack = JSON.parse('{"__proto__":{"polluted":1}}') as object;
    const ids = [(await client.enqueue("data", code)).task.id, (await client.enqueue("data", attack)).task.id];
    const viaCli = await cli([
      "--db",
      path,
      "--json",
      "enqueue",
      "--",
      "data",
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
    ]);
    expect(viaCli.code, viaCli.stderr).toBe(0);
    ids.push((JSON.parse(viaCli.stdout) as { task: { id: number } }).task.id);
    const seen: unknown[] = [];
    const worker = new Worker({ db, handlers: { data: (payload: unknown) => void seen.push(payload) }, pollIntervalMs: 5 });
    await worker.runUntilEmpty();
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBe(code);
    for (const payload of seen.slice(1) as object[]) {
      expect(Object.hasOwn(payload, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
      expect((payload as Record<string, unknown>).polluted).toBeUndefined();
    }
    for (const id of ids) expect((await client.get(id))?.status).toBe("completed");
    expect(prototypeIsPolluted()).toBe(false);
    await client.close();
    db.close();
  });
});

describe("(f) errors and logs do not repeat payloads", () => {
  const SECRET = "sk_live_9f8e7d6c5b4a3210-SECRET";

  function expectNoSecret(value: unknown, where: string): void {
    const text =
      typeof value === "string"
        ? value
        : JSON.stringify(value, (_, item) => (item instanceof Error ? { ...item, message: item.message, stack: item.stack } : item));
    expect(text ?? "", where).not.toContain(SECRET);
    expect(text ?? "", where).not.toContain(SECRET.slice(0, 10));
  }

  it("validation errors for payloads and options name keys and sizes, not the secret values beside them", async () => {
    const db = openQueueDatabase({ path: freshPath() });
    const client = new QueueClient({ db, maxPayloadBytes: 1024 });
    const cases: [unknown, object?][] = [
      [{ apiKey: SECRET, amount: Number.NaN }],
      [{ apiKey: SECRET, nested: [1, { big: 10n }] }],
      [{ apiKey: SECRET, pad: "x".repeat(2_000) }],
      [{ apiKey: SECRET, callback: () => SECRET }],
      [{ apiKey: SECRET }, { priority: 1.5 }],
      [{ apiKey: SECRET }, { runAt: "tomorrow" }],
      [{ apiKey: SECRET }, { unknownOption: true }],
    ];
    for (const [payload, options] of cases) {
      const error = await client.enqueue("t", payload, options).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(isQueueError(error, "INVALID_PAYLOAD", "INVALID_ARGUMENT"), String(error)).toBe(true);
      expectNoSecret((error as QueueError).message, "error message");
      expectNoSecret((error as QueueError).details ?? {}, "error details");
    }
    const batchError = await client
      .enqueueMany([{ type: "t", payload: { apiKey: SECRET, n: Number.POSITIVE_INFINITY } }])
      .catch((caught: unknown) => caught);
    expect(isQueueError(batchError, "INVALID_PAYLOAD")).toBe(true);
    expectNoSecret((batchError as Error).message, "batch error message");
    await client.close();
    db.close();
  });

  it("`queue enqueue` with a payload that is not JSON does not echo it", async () => {
    const db = freshPath();
    openQueueDatabase({ path: db }).close();
    for (const payload of [`password=${SECRET}`, `{"apiKey": ${SECRET}}`, `${SECRET}`, `{"apiKey": "${SECRET}"`]) {
      const result = await cli(["--db", db, "enqueue", "t", payload]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/not valid JSON/);
      expectNoSecret(result.stderr, "stderr");
      expectNoSecret(result.stdout, "stdout");
    }
  });

  it("a failing handler's stored error, the failure events and the task log do not contain the payload", async () => {
    const db = openQueueDatabase({ path: freshPath() });
    const client = new QueueClient({ db });
    const failing = (await client.enqueue("charge", { apiKey: SECRET }, { maxAttempts: 2 })).task.id;
    const permanent = (await client.enqueue("refund", { apiKey: SECRET }, { maxAttempts: 3 })).task.id;
    const unknown = (await client.enqueue("unhandled", { apiKey: SECRET }, { maxAttempts: 1 })).task.id;
    const errors: TaskError[] = [];
    const worker = new Worker({
      db,
      handlers: {
        charge: async () => {
          throw new Error("the payment provider refused the charge");
        },
        refund: async () => {
          throw new PermanentError("refunds are disabled");
        },
      },
      types: "all",
      backoff: { initialDelayMs: 0, maxDelayMs: 0, jitter: 0 },
      pollIntervalMs: 5,
    });
    worker.on("failed", (_task, error) => errors.push(error));
    worker.on("dead-lettered", (_task, error) => errors.push(error));
    await worker.runUntilEmpty();
    expect(errors.length).toBeGreaterThanOrEqual(3);
    for (const error of errors) expectNoSecret(error, "event error");
    for (const id of [failing, permanent, unknown]) {
      const task = await client.get(id);
      expect(task?.status).toBe("dead_letter");
      expectNoSecret(task?.error, `stored error of task ${id}`);
      expectNoSecret(await new TaskLogger(db).forTask(id), `log of task ${id}`);
    }
    await client.close();
    db.close();
  });
});

it("QueueError is the exported typed error the checks above rely on", () => {
  expect(new QueueError("INVALID_ARGUMENT", "x")).toBeInstanceOf(Error);
});
