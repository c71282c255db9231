// Hostile configuration and command lines: worker config files (JSON, YAML, TOML) with
// QUEUE_WORKER_* overrides, the task execution config (`task_execution:` files, QUEUE_* variables),
// and `queue enqueue` arguments run through the CLI's main() in-process. Each either yields a valid
// configuration / a stored task, or a typed refusal (INVALID_CONFIG, exit code 2); nothing crashes
// and Object.prototype is never polluted.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openQueueDatabase, QueueError, selectTask, taskFromRow } from "@queue/core";
import { resolveTaskExecutionConfig } from "@queue/integration";
import { loadWorkerConfig, validateWorkerConfig, WORKER_CONFIG_KEYS } from "@queue/scheduling";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { cli } from "../src/cli-in-process.js";
import {
  finiteNumber,
  hostileJson,
  hostileKey,
  hostileString,
  jsonDifference,
  prototypeIsPolluted,
  prototypeSnapshot,
} from "../src/hostile-values.js";

const prototypeBefore = prototypeSnapshot();
const dir = mkdtempSync(join(tmpdir(), "queue-hostile-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCounter = 0;
function writeConfig(extension: string, text: string): string {
  const file = join(dir, `config-${fileCounter++}${extension}`);
  writeFileSync(file, text);
  return file;
}

function expectConfigRefusal(error: unknown): void {
  expect(error).toBeInstanceOf(QueueError);
  expect((error as QueueError).code).toBe("INVALID_CONFIG");
}

const scalar = fc.oneof(
  finiteNumber,
  hostileString,
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.NaN, "1e309", "30000", "fifo", "priority", "queue", "in-memory", "hold", "true", "yes"),
);
const settingKey = fc.oneof(
  fc.constantFrom(...WORKER_CONFIG_KEYS, "lease_ms", "lease-ms", "LEASEMS", "worker", "task_execution"),
  fc.constantFrom("backend", "queue_db_path", "fallback_enabled", "paused_intake"),
  hostileKey,
);
const settingValue = fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), hostileJson);
const settings = fc
  .uniqueArray(fc.tuple(settingKey, settingValue), { maxLength: 5, selector: ([key]) => key })
  .map((entries) => Object.fromEntries(entries));

/** A file body in one of the formats, from structured settings or from raw hostile text. */
const configText = fc.oneof(
  settings.map((value) => JSON.stringify(value)),
  settings.map((value) => JSON.stringify({ worker: value, task_execution: value })),
  settings.map((value) =>
    Object.entries(value)
      .map(([key, item]) => `${JSON.stringify(key)}: ${JSON.stringify(item)}`)
      .join("\n"),
  ),
  settings.map(
    (value) =>
      `task_execution:\n${Object.entries(value)
        .map(([key, item]) => `  ${JSON.stringify(key)}: ${JSON.stringify(item)}`)
        .join("\n")}\n`,
  ),
  hostileString,
  fc.constantFrom("", "{", "[1,2", "a: [", "key = ", "__proto__: {polluted: 1}", '{"__proto__":{"polluted":1}}', "a: &a [*a]"),
);

const workerEnv = fc.dictionary(
  fc.constantFrom(
    "QUEUE_WORKER_ID",
    "QUEUE_WORKER_STRATEGY",
    "QUEUE_WORKER_LEASE_MS",
    "QUEUE_WORKER_HEARTBEAT_MS",
    "QUEUE_WORKER_POLL_INTERVAL_MS",
    "QUEUE_WORKER_CONCURRENCY",
    "QUEUE_WORKER_CAPABILITIES",
    "QUEUE_WORKER_TYPES",
  ),
  fc.oneof(hostileString, fc.constantFrom("10", "-1", "1e3", "999999999999", '["gpu"]', '{"__proto__":1}', "[1]", " 5 ")),
  { maxKeys: 3 },
);

const taskEnv = fc.dictionary(
  fc.constantFrom("QUEUE_TASK_BACKEND", "QUEUE_DB_PATH", "QUEUE_FALLBACK_ENABLED", "QUEUE_PAUSED_INTAKE"),
  fc.oneof(hostileString, fc.constantFrom("queue", " in-memory ", "YES", "0", "maybe", "hold", "reject", "")),
  { maxKeys: 3 },
);

describe("hostile configuration", () => {
  it("a worker config file with environment overrides loads as valid settings or is refused with INVALID_CONFIG", async () => {
    await fc.assert(
      fc.property(fc.constantFrom(".json", ".yaml", ".yml", ".toml", ".txt"), configText, workerEnv, (extension, text, env) => {
        const file = writeConfig(extension, text);
        let config: ReturnType<typeof loadWorkerConfig>;
        try {
          config = loadWorkerConfig({ file, env });
        } catch (error) {
          expectConfigRefusal(error);
          return;
        }
        expect(Object.isFrozen(config)).toBe(true);
        // What loaded passes validation again, and holds only known settings.
        expect(validateWorkerConfig(config, "re-check")).toEqual(config);
        for (const key of Object.keys(config)) expect(WORKER_CONFIG_KEYS).toContain(key);
      }),
      { numRuns: 300 },
    );
    expect(prototypeIsPolluted()).toBe(false);
  });

  it("a task execution config file with QUEUE_* variables resolves to a valid configuration or is refused with INVALID_CONFIG", async () => {
    await fc.assert(
      fc.property(fc.constantFrom(".yaml", ".json"), configText, taskEnv, fc.boolean(), (extension, text, env, withFile) => {
        const file = writeConfig(extension, text);
        let config: ReturnType<typeof resolveTaskExecutionConfig>;
        try {
          config = resolveTaskExecutionConfig({ ...(withFile ? { configFile: file } : {}), env });
        } catch (error) {
          expectConfigRefusal(error);
          return;
        }
        expect(["in-memory", "queue"]).toContain(config.backend);
        expect(typeof config.fallbackEnabled).toBe("boolean");
        expect(config.pausedIntake === undefined || ["reject", "hold"].includes(config.pausedIntake)).toBe(true);
        expect(config.queueDbPath === undefined || typeof config.queueDbPath === "string").toBe(true);
      }),
      { numRuns: 300 },
    );
    expect(prototypeIsPolluted()).toBe(false);
  });

  it("a YAML tag asking for a function is not executed: the value is refused", () => {
    const file = writeConfig(".yaml", "task_execution:\n  backend: !!js/function 'function () { process.exit(1) }'\n");
    try {
      resolveTaskExecutionConfig({ configFile: file, env: {} });
      expect.unreachable("a function tag must not yield a backend");
    } catch (error) {
      expectConfigRefusal(error);
    }
  });

  it("a missing task execution config file is refused with INVALID_CONFIG", () => {
    try {
      resolveTaskExecutionConfig({ configFile: join(dir, "missing.yaml"), env: {} });
      expect.unreachable("a missing file must be refused");
    } catch (error) {
      expectConfigRefusal(error);
    }
  });
});

describe("hostile command lines", () => {
  const dbPath = join(dir, "cli.db");
  openQueueDatabase({ path: dbPath }).close();

  it("`queue enqueue` with hostile type, payload and flags stores exactly what was given (exit 0) or refuses it (exit 2)", async () => {
    const flag = fc.oneof(
      fc.tuple(
        fc.constant("--priority"),
        fc.oneof(hostileString, fc.integer().map(String), fc.constantFrom("1e3", "-0", "9007199254740993")),
      ),
      fc.tuple(fc.constant("--delay"), fc.oneof(hostileString, fc.constantFrom("30s", "1.5h", "99999999999w", "-1s", "0"))),
      fc.tuple(
        fc.constant("--run-at"),
        fc.oneof(hostileString, fc.constantFrom("2030-01-01T00:00:00Z", "+275760-09-13T00:00:00.001Z", "0")),
      ),
      fc.tuple(fc.constant("--max-attempts"), fc.oneof(hostileString, fc.constantFrom("0", "1", "1000", "1001"))),
      fc.tuple(fc.constant("--idempotency-key"), hostileString),
      fc.tuple(fc.constant("--timeout"), fc.oneof(hostileString, fc.constantFrom("1ms", "0", "25d"))),
    );
    const payloadText = fc.oneof(
      hostileJson.map((value) => JSON.stringify(value)),
      hostileString,
      fc.constantFrom('{"__proto__":{"polluted":1}}', '"); process.exit(1); //', "[".repeat(5000), "1e999", "-0"),
    );
    const codes = { 0: 0, 2: 0 };
    await fc.assert(
      // A plain type now and then, so that enough cases get past the type to exercise the rest.
      fc.asyncProperty(
        fc.oneof({ arbitrary: hostileString, weight: 2 }, { arbitrary: fc.constantFrom("t", "send-email", "a.b:c"), weight: 1 }),
        payloadText,
        fc.array(flag, { maxLength: 3 }),
        async (type, payload, flags) => {
          const result = await cli(["--db", dbPath, "--json", "enqueue", ...flags.flat(), "--", type, payload]);
          expect([0, 2]).toContain(result.code);
          codes[result.code as 0 | 2] += 1;
          if (result.code === 2) {
            expect(result.stderr).toMatch(/error|Error/);
            return;
          }
          const { task, created } = JSON.parse(result.stdout) as { task: { id: number }; created: boolean };
          const db = openQueueDatabase({ path: dbPath });
          try {
            const row = selectTask(db, task.id);
            expect(row).toBeDefined();
            const stored = taskFromRow(row as NonNullable<typeof row>);
            if (created) {
              expect(stored.type).toBe(type);
              expect(jsonDifference(stored.payload, JSON.parse(payload))).toBeUndefined();
            }
          } finally {
            db.close();
          }
        },
      ),
      { numRuns: 150 },
    );
    // Both outcomes happened: the property checked stored tasks, not only refusals.
    // (About one case in six is accepted: most hostile flags and types are refused.)
    expect(codes[0]).toBeGreaterThanOrEqual(5);
    expect(codes[2]).toBeGreaterThan(10);
    const db = openQueueDatabase({ path: dbPath });
    expect(db.connection.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("arguments that look like options, or are missing, are usage errors (exit 2), never crashes", async () => {
    for (const args of [
      ["enqueue"],
      ["enqueue", "--priority"],
      ["enqueue", "t", "{}", "--bogus"],
      ["enqueue", "t", "{}", "--priority", "--max-attempts"],
      ["enqueue", "-x", "{}"],
      ["--db"],
      ["no-such-command"],
    ]) {
      const result = await cli(["--db", dbPath, ...args]);
      expect(result.code, args.join(" ")).toBe(2);
    }
  });

  it("leaves Object.prototype untouched", () => {
    expect(prototypeSnapshot()).toEqual(prototypeBefore);
    expect(prototypeIsPolluted()).toBe(false);
  });
});
