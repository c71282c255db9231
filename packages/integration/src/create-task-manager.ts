import { readFileSync } from "node:fs";
import { describeValue, QueueError, TypedEmitter } from "@queue/core";
import { parse as parseYaml } from "yaml";
import { BackgroundTaskManager } from "./background-task-manager.js";
import { PAUSED_INTAKE_MODES, type PausedIntakeMode } from "./intake.js";
import { QueuedTaskManager } from "./queued-task-manager.js";
import { RunRegistry } from "./run-registry.js";
import type { TaskManager } from "./task-manager.js";

export interface TaskExecutionConfig {
  readonly backend: "in-memory" | "queue";
  /** The queue's SQLite file, or a postgres:// URL (QUEUE_DB_PATH, task_execution.queue_db_path). */
  readonly queueDbPath?: string;
  /** Or the queue's PostgreSQL database, as a postgres:// or postgresql:// URL (task_execution.queue_db_url). */
  readonly queueDbUrl?: string;
  /** When the queue cannot be opened: fall back to in-memory (true, the default) or throw. */
  readonly fallbackEnabled: boolean;
  /** While intake is paused: refuse new runs ("reject", the default) or hold them until resumed. */
  readonly pausedIntake?: PausedIntakeMode;
  /** The queue manager writes from a thread of its own (QueuedTaskManager's `databaseThread`). Default false. */
  readonly databaseThread?: boolean;
}

export interface CreateTaskManagerOptions {
  /** Wins over the environment and the file. */
  readonly config?: Partial<TaskExecutionConfig>;
  /** A YAML or JSON file with a `task_execution:` section (backend, queue_db_path or queue_db_url, fallback_enabled, paused_intake, database_thread). */
  readonly configFile?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly registry?: RunRegistry;
}

export interface TaskManagerEvents {
  /** The queue could not be opened and the in-memory manager is used instead. */
  fallback: (message: string, error: unknown) => void;
}

class TaskManagerNotices extends TypedEmitter<TaskManagerEvents> {
  notify(message: string, error: unknown): void {
    this.emit("fallback", message, error);
  }
}

/** Process-wide notices from createTaskManager, for an application's own alerting. */
export const taskManagerEvents: TaskManagerNotices = new TaskManagerNotices();

function fromFile(file: string): Partial<TaskExecutionConfig> {
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, "utf8"));
  } catch (error) {
    throw new QueueError(
      "INVALID_CONFIG",
      `The task execution config ${file} cannot be read as YAML or JSON: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const raw = isTable(parsed) ? parsed.task_execution : undefined;
  if (raw !== undefined && raw !== null && !isTable(raw)) {
    throw new QueueError(
      "INVALID_CONFIG",
      `In ${file}, task_execution is ${describeValue(raw)}; expected a mapping of backend, queue_db_path or queue_db_url, fallback_enabled, paused_intake, database_thread.`,
    );
  }
  const section: Record<string, unknown> = raw ?? {};
  if (section.queue_db_path !== undefined && (typeof section.queue_db_path !== "string" || section.queue_db_path.trim() === "")) {
    throw new QueueError(
      "INVALID_CONFIG",
      `In ${file}, task_execution.queue_db_path is ${describeValue(section.queue_db_path)}; expected the path of the queue database file.`,
    );
  }
  if (section.queue_db_url !== undefined && (typeof section.queue_db_url !== "string" || section.queue_db_url.trim() === "")) {
    throw new QueueError(
      "INVALID_CONFIG",
      `In ${file}, task_execution.queue_db_url is ${describeValue(section.queue_db_url)}; expected a postgres:// or postgresql:// URL.`,
    );
  }
  return {
    ...(section.backend === undefined ? {} : { backend: section.backend as TaskExecutionConfig["backend"] }),
    ...(section.queue_db_path === undefined ? {} : { queueDbPath: section.queue_db_path as string }),
    ...(section.queue_db_url === undefined ? {} : { queueDbUrl: section.queue_db_url as string }),
    ...(section.fallback_enabled === undefined ? {} : { fallbackEnabled: section.fallback_enabled as boolean }),
    ...(section.paused_intake === undefined ? {} : { pausedIntake: section.paused_intake as PausedIntakeMode }),
    ...(section.database_thread === undefined ? {} : { databaseThread: section.database_thread as boolean }),
  };
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An environment flag: 1/0, true/false, yes/no as a boolean; anything else as given (refused later, by name). */
function envFlag(value: string | undefined): boolean | undefined {
  const flag = value?.trim().toLowerCase();
  if (flag === undefined) return undefined;
  if (flag === "1" || flag === "true" || flag === "yes") return true;
  if (flag === "0" || flag === "false" || flag === "no") return false;
  return flag as unknown as boolean;
}

function fromEnv(env: Readonly<Record<string, string | undefined>>): Partial<TaskExecutionConfig> {
  const fallbackEnabled = envFlag(env.QUEUE_FALLBACK_ENABLED);
  const databaseThread = envFlag(env.QUEUE_DATABASE_THREAD);
  return {
    ...(env.QUEUE_TASK_BACKEND === undefined ? {} : { backend: env.QUEUE_TASK_BACKEND.trim() as TaskExecutionConfig["backend"] }),
    ...(env.QUEUE_DB_PATH === undefined ? {} : { queueDbPath: env.QUEUE_DB_PATH }),
    ...(env.QUEUE_PAUSED_INTAKE === undefined ? {} : { pausedIntake: env.QUEUE_PAUSED_INTAKE.trim() as PausedIntakeMode }),
    ...(fallbackEnabled === undefined ? {} : { fallbackEnabled }),
    ...(databaseThread === undefined ? {} : { databaseThread }),
  };
}

/**
 * Layers of configuration, later ones winning. `queueDbPath` and `queueDbUrl` are one setting (where
 * the queue is): a layer that gives either replaces both of the layers before it; one layer giving
 * both is refused.
 */
function mergeLayers(layers: readonly Partial<TaskExecutionConfig>[], names: readonly string[]): Partial<TaskExecutionConfig> {
  let merged: Partial<TaskExecutionConfig> = {};
  layers.forEach((layer, index) => {
    if (layer.queueDbPath !== undefined && layer.queueDbUrl !== undefined) {
      throw new QueueError(
        "INVALID_CONFIG",
        `${names[index]} gives both queueDbPath and queueDbUrl; give one: the queue's SQLite file (or a postgres:// URL) as queueDbPath, or its PostgreSQL URL as queueDbUrl.`,
        { details: { option: "queueDbUrl" } },
      );
    }
    if (layer.queueDbPath !== undefined || layer.queueDbUrl !== undefined) {
      const { queueDbPath: _path, queueDbUrl: _url, ...rest } = merged;
      merged = rest;
    }
    merged = { ...merged, ...layer };
  });
  return merged;
}

/** The effective configuration: defaults, then the file, then the environment, then `config`. */
export function resolveTaskExecutionConfig(options: CreateTaskManagerOptions = {}): TaskExecutionConfig {
  const merged = {
    backend: "in-memory" as const,
    fallbackEnabled: true,
    ...mergeLayers(
      [options.configFile === undefined ? {} : fromFile(options.configFile), fromEnv(options.env ?? process.env), options.config ?? {}],
      [`The task execution config ${options.configFile ?? ""}`, "The environment", "createTaskManager's config"],
    ),
  };
  if (merged.backend !== "in-memory" && merged.backend !== "queue") {
    throw new QueueError(
      "INVALID_CONFIG",
      `Invalid task execution backend ${describeValue(merged.backend)}; expected "in-memory" or "queue" (QUEUE_TASK_BACKEND or task_execution.backend).`,
    );
  }
  if (typeof merged.fallbackEnabled !== "boolean") {
    throw new QueueError(
      "INVALID_CONFIG",
      `Invalid fallbackEnabled ${describeValue(merged.fallbackEnabled)}; expected true or false (QUEUE_FALLBACK_ENABLED accepts 1/0, true/false, yes/no).`,
    );
  }
  if (merged.databaseThread !== undefined && typeof merged.databaseThread !== "boolean") {
    throw new QueueError(
      "INVALID_CONFIG",
      `Invalid databaseThread ${describeValue(merged.databaseThread)}; expected true or false (QUEUE_DATABASE_THREAD accepts 1/0, true/false, yes/no; or task_execution.database_thread).`,
    );
  }
  if (merged.pausedIntake !== undefined && !PAUSED_INTAKE_MODES.includes(merged.pausedIntake)) {
    throw new QueueError(
      "INVALID_CONFIG",
      `Invalid pausedIntake ${describeValue(merged.pausedIntake)}; expected "reject" or "hold" (QUEUE_PAUSED_INTAKE or task_execution.paused_intake).`,
    );
  }
  return merged;
}

/**
 * The task manager the configuration asks for. With backend "queue", a queue that cannot be opened
 * (missing permissions, a damaged or newer file) falls back to the in-memory manager when
 * fallbackEnabled, with a warning logged and a `fallback` event; otherwise its typed error is thrown.
 */
export function createTaskManager(options: CreateTaskManagerOptions = {}): TaskManager {
  const config = resolveTaskExecutionConfig(options);
  const registry = options.registry ?? new RunRegistry();
  const intake = config.pausedIntake === undefined ? {} : { pausedIntake: config.pausedIntake };
  if (config.backend === "in-memory") return new BackgroundTaskManager(registry, intake);
  try {
    return new QueuedTaskManager({
      registry,
      ...intake,
      ...(config.queueDbPath === undefined ? {} : { path: config.queueDbPath }),
      ...(config.queueDbUrl === undefined ? {} : { url: config.queueDbUrl }),
      ...(config.databaseThread === undefined ? {} : { databaseThread: config.databaseThread }),
    });
  } catch (error) {
    if (!config.fallbackEnabled) throw error;
    const message = `The task queue could not be opened (${(error as Error).message}); falling back to in-memory execution. Runs will not survive a restart until this is fixed.`;
    console.warn(`warning: ${message}`);
    taskManagerEvents.notify(message, error);
    return new BackgroundTaskManager(registry, intake);
  }
}
