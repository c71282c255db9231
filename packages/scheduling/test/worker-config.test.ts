import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadWorkerConfig, validateWorkerConfig } from "@queue/scheduling";
import { makeTempDir, removeTempDirs } from "@queue/test-support";
import { afterEach, describe, expect, it } from "vitest";

afterEach(removeTempDirs);

function file(name: string, text: string): string {
  const path = join(makeTempDir(), name);
  writeFileSync(path, text);
  return path;
}

const expected = { id: "w-1", strategy: "lifo", leaseMs: 20_000, pollIntervalMs: 50, concurrency: 8, capabilities: ["gpu"] };

describe("loadWorkerConfig", () => {
  it("reads JSON, YAML (top level or a worker section) and TOML alike", () => {
    const json = file("worker.json", JSON.stringify(expected));
    const yaml = file(
      "worker.yaml",
      "worker:\n  id: w-1\n  strategy: lifo\n  lease_ms: 20000\n  poll-interval-ms: 50\n  concurrency: 8\n  capabilities: [gpu]\n",
    );
    const toml = file(
      "worker.toml",
      'id = "w-1"\nstrategy = "lifo"\nleaseMs = 20000\npollIntervalMs = 50\nconcurrency = 8\ncapabilities = ["gpu"]\n',
    );
    for (const path of [json, yaml, toml]) expect(loadWorkerConfig({ file: path, env: {} })).toEqual(expected);
  });

  it("lets QUEUE_WORKER_* variables override the file", () => {
    const path = file("worker.json", JSON.stringify(expected));
    const config = loadWorkerConfig({
      file: path,
      env: {
        QUEUE_WORKER_CONCURRENCY: "3",
        QUEUE_WORKER_STRATEGY: "priority",
        QUEUE_WORKER_CAPABILITIES: '["a","b"]',
        QUEUE_WORKER_ID: " w-2 ",
      },
    });
    expect(config).toEqual({ ...expected, id: "w-2", concurrency: 3, strategy: "priority", capabilities: ["a", "b"] });
  });

  it.each([
    ["an unknown key", '{"concurency": 4}', ["worker.json", "concurency", "known settings"]],
    ["a bad strategy", '{"strategy": "random"}', ["worker.json", "strategy", "fifo, lifo, priority, weighted_random"]],
    ["a negative concurrency", '{"concurrency": -1}', ["worker.json", "concurrency", "from 1 to 1000"]],
    ["a heartbeat not shorter than the lease", '{"leaseMs": 1000, "heartbeatMs": 1000}', ["heartbeatMs", "shorter than leaseMs"]],
    ["capabilities that are not strings", '{"capabilities": [1]}', ["capabilities", "non-empty strings"]],
    ["broken JSON", "{oops", ["worker.json", "not valid JSON"]],
  ])("rejects %s, naming the file, key and allowed values", (_label, text, fragments) => {
    const path = file("worker.json", text);
    let message = "";
    try {
      loadWorkerConfig({ file: path, env: {} });
    } catch (error) {
      expect(error).toMatchObject({ code: "INVALID_CONFIG" });
      message = (error as Error).message;
    }
    for (const fragment of fragments) expect(message).toContain(fragment);
  });

  it("names the environment variable when an override is bad", () => {
    expect(() => loadWorkerConfig({ env: { QUEUE_WORKER_LEASE_MS: "soon" } })).toThrow(/QUEUE_WORKER_LEASE_MS.*leaseMs/);
    expect(() => loadWorkerConfig({ env: { QUEUE_WORKER_CAPABILITIES: "gpu" } })).toThrow(/QUEUE_WORKER_CAPABILITIES.*JSON/);
  });

  it("refuses an unsupported extension and a missing file", () => {
    expect(() => loadWorkerConfig({ file: file("worker.ini", "x=1"), env: {} })).toThrow(/\.json, \.yaml, \.yml or \.toml/);
    expect(() => loadWorkerConfig({ file: "/nonexistent/worker.json", env: {} })).toThrow(/cannot be read/);
  });

  it("validates settings passed in code the same way", () => {
    expect(() => validateWorkerConfig({ pollIntervalMs: 0 }, "Worker options")).toThrow(/Worker options: pollIntervalMs/);
  });
});
