import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { describeValue, QueueError } from "@queue/core";
import { parse as parseToml } from "smol-toml";
import { parse as parseYaml } from "yaml";
import { strategyNames } from "./registry.js";

/** Worker settings that can come from a configuration file or the environment. */
export interface WorkerConfig {
  readonly id?: string;
  readonly strategy?: string;
  readonly leaseMs?: number;
  readonly heartbeatMs?: number;
  readonly pollIntervalMs?: number;
  readonly concurrency?: number;
  readonly capabilities?: readonly string[];
  readonly types?: readonly string[];
}

type Key = keyof WorkerConfig;
type Check = (value: unknown) => string | undefined;

const integer =
  (min: number, max: number): Check =>
  (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max ? undefined : `an integer from ${min} to ${max}`;
const stringList: Check = (value) =>
  Array.isArray(value) && value.every((item) => typeof item === "string" && item.length > 0 && item.length <= 255)
    ? undefined
    : "a list of non-empty strings";

const CHECKS: Record<Key, Check> = {
  id: (value) => (typeof value === "string" && /^[\w.:@-]{1,128}$/.test(value) ? undefined : "1 to 128 letters, digits or . _ : @ -"),
  strategy: (value) => (typeof value === "string" && strategyNames().includes(value) ? undefined : `one of ${strategyNames().join(", ")}`),
  leaseMs: integer(10, 86_400_000),
  heartbeatMs: integer(5, 86_400_000),
  pollIntervalMs: integer(1, 3_600_000),
  concurrency: integer(1, 1_000),
  capabilities: stringList,
  types: stringList,
};

export const WORKER_CONFIG_KEYS: readonly Key[] = Object.keys(CHECKS) as Key[];

/** Environment variables that override file settings, and how each is read. */
const ENVIRONMENT: Record<Key, { readonly name: string; readonly parse: "string" | "integer" | "json" }> = {
  id: { name: "QUEUE_WORKER_ID", parse: "string" },
  strategy: { name: "QUEUE_WORKER_STRATEGY", parse: "string" },
  leaseMs: { name: "QUEUE_WORKER_LEASE_MS", parse: "integer" },
  heartbeatMs: { name: "QUEUE_WORKER_HEARTBEAT_MS", parse: "integer" },
  pollIntervalMs: { name: "QUEUE_WORKER_POLL_INTERVAL_MS", parse: "integer" },
  concurrency: { name: "QUEUE_WORKER_CONCURRENCY", parse: "integer" },
  capabilities: { name: "QUEUE_WORKER_CAPABILITIES", parse: "json" },
  types: { name: "QUEUE_WORKER_TYPES", parse: "json" },
};

function configError(source: string, message: string, cause?: unknown): QueueError {
  return new QueueError("INVALID_CONFIG", `${source}: ${message}`, cause === undefined ? {} : { cause });
}

/** `lease_ms`, `lease-ms` and `leaseMs` all name the same setting. */
function canonicalKey(key: string): Key | undefined {
  const folded = key.replace(/[-_]/g, "").toLowerCase();
  return WORKER_CONFIG_KEYS.find((candidate) => candidate.toLowerCase() === folded);
}

/**
 * Checks settings from any source; `source` names where they came from in every message (a file, an
 * environment variable, or options passed in code). Unknown keys are refused, so typos surface.
 */
export function validateWorkerConfig(raw: unknown, source: string): WorkerConfig {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw configError(source, `expected a table of worker settings, got ${describeValue(raw)}`);
  }
  const config: Record<string, unknown> = {};
  for (const [rawKey, value] of Object.entries(raw)) {
    const key = canonicalKey(rawKey);
    if (key === undefined) {
      throw configError(source, `unknown setting ${JSON.stringify(rawKey)}; known settings: ${WORKER_CONFIG_KEYS.join(", ")}`);
    }
    if (value === undefined || value === null) continue;
    const expected = CHECKS[key](value);
    if (expected !== undefined) throw configError(source, `${key} is ${describeValue(value)}; expected ${expected}`);
    config[key] = Array.isArray(value) ? Object.freeze([...value]) : value;
  }
  const { leaseMs, heartbeatMs } = config as WorkerConfig;
  if (leaseMs !== undefined && heartbeatMs !== undefined && heartbeatMs >= leaseMs) {
    throw configError(
      source,
      `heartbeatMs (${heartbeatMs}) must be shorter than leaseMs (${leaseMs}), or leases expire between heartbeats`,
    );
  }
  return Object.freeze(config) as WorkerConfig;
}

function parseFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw configError(`Worker config ${file}`, `cannot be read (${(error as Error).message})`, error);
  }
  const extension = extname(file).toLowerCase();
  try {
    if (extension === ".json") return JSON.parse(text);
    if (extension === ".yaml" || extension === ".yml") return parseYaml(text);
    if (extension === ".toml") return parseToml(text);
  } catch (error) {
    throw configError(`Worker config ${file}`, `is not valid ${extension.slice(1).toUpperCase()}: ${(error as Error).message}`, error);
  }
  throw configError(`Worker config ${file}`, `has extension ${JSON.stringify(extension)}; expected .json, .yaml, .yml or .toml`);
}

function readEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  for (const key of WORKER_CONFIG_KEYS) {
    const { name, parse } = ENVIRONMENT[key];
    const text = env[name];
    if (text === undefined || text.trim() === "") continue;
    if (parse === "string") overrides[key] = text.trim();
    else if (parse === "integer") overrides[key] = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : text;
    else {
      try {
        overrides[key] = JSON.parse(text);
      } catch (error) {
        throw configError(`Environment variable ${name}`, `is not JSON (expected a JSON array such as ["gpu","fast"])`, error);
      }
    }
  }
  return overrides;
}

export interface LoadWorkerConfigOptions {
  /** A .json, .yaml, .yml or .toml file; its settings may sit at the top level or under `worker`. */
  readonly file?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Settings from the file, then `QUEUE_WORKER_*` environment variables on top, all validated. */
export function loadWorkerConfig(options: LoadWorkerConfigOptions = {}): WorkerConfig {
  let fromFile: WorkerConfig = {};
  if (options.file !== undefined) {
    const parsed = parseFile(options.file);
    const section = typeof parsed === "object" && parsed !== null && "worker" in parsed ? (parsed as { worker: unknown }).worker : parsed;
    fromFile = validateWorkerConfig(section ?? {}, `Worker config ${options.file}`);
  }
  const env = options.env ?? process.env;
  const overrides = readEnvironment(env);
  for (const [key, value] of Object.entries(overrides)) {
    validateWorkerConfig({ [key]: value }, `Environment variable ${ENVIRONMENT[key as Key].name}`);
  }
  return validateWorkerConfig(
    { ...fromFile, ...overrides },
    options.file === undefined ? "Worker settings" : `Worker config ${options.file} with environment overrides`,
  );
}
