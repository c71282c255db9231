import type BetterSqlite3 from "better-sqlite3";
import { invalidConfig } from "./errors.js";

export type JournalMode = "wal" | "delete" | "truncate" | "persist";
export type SynchronousMode = "off" | "normal" | "full" | "extra";
export type TempStore = "default" | "file" | "memory";

/** The PRAGMAs applied to every connection the queue opens. */
export interface PragmaSettings {
  /** `wal` lets readers run beside the single writer; the queue's concurrency relies on it. */
  readonly journalMode: JournalMode;
  /** `normal` is durable against process crashes; `full` also against power loss, at a cost. */
  readonly synchronous: SynchronousMode;
  /** How long SQLite itself waits for a lock before reporting SQLITE_BUSY. */
  readonly busyTimeoutMs: number;
  readonly foreignKeys: boolean;
  readonly tempStore: TempStore;
  /** Page cache size per connection, in KiB. */
  readonly cacheSizeKiB: number;
  /** Memory-mapped I/O size in bytes; 0 turns it off. */
  readonly mmapSizeBytes: number;
  /** WAL pages after which a commit runs an automatic checkpoint; 0 turns it off. */
  readonly walAutocheckpointPages: number;
}

export const PRODUCTION_PRAGMAS: PragmaSettings = Object.freeze({
  journalMode: "wal",
  synchronous: "normal",
  busyTimeoutMs: 5_000,
  foreignKeys: true,
  tempStore: "memory",
  cacheSizeKiB: 32 * 1024,
  mmapSizeBytes: 0,
  walAutocheckpointPages: 1_000,
});

const CHOICES = {
  journalMode: ["wal", "delete", "truncate", "persist"],
  synchronous: ["off", "normal", "full", "extra"],
  tempStore: ["default", "file", "memory"],
} as const;

const MAX_INT = 2 ** 31 - 1;

type Validator = (value: unknown, option: string) => void;

function oneOf(choices: readonly string[]): Validator {
  return (value, option) => {
    if (typeof value !== "string" || !choices.includes(value)) invalidConfig(option, value, `one of ${choices.join(", ")}`);
  };
}

function integerIn(min: number, max: number): Validator {
  return (value, option) => {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      invalidConfig(option, value, `an integer from ${min} to ${max}`);
    }
  };
}

const VALIDATORS: Record<keyof PragmaSettings, Validator> = {
  journalMode: oneOf(CHOICES.journalMode),
  synchronous: oneOf(CHOICES.synchronous),
  busyTimeoutMs: integerIn(0, MAX_INT),
  foreignKeys: (value, option) => {
    if (typeof value !== "boolean") invalidConfig(option, value, "true or false");
  },
  tempStore: oneOf(CHOICES.tempStore),
  cacheSizeKiB: integerIn(64, 16 * 1024 * 1024),
  mmapSizeBytes: integerIn(0, Number.MAX_SAFE_INTEGER),
  walAutocheckpointPages: integerIn(0, MAX_INT),
};

/** Merges overrides onto PRODUCTION_PRAGMAS, rejecting unknown keys and bad values with a clear error. */
export function resolvePragmas(overrides: Partial<PragmaSettings> | undefined): PragmaSettings {
  if (overrides === undefined) return PRODUCTION_PRAGMAS;
  if (typeof overrides !== "object" || overrides === null || Array.isArray(overrides)) {
    invalidConfig("pragmas", overrides, "an object of PRAGMA settings");
  }
  const known = Object.keys(VALIDATORS);
  for (const key of Object.keys(overrides)) {
    if (!known.includes(key)) invalidConfig(`pragmas.${key}`, "(unknown setting)", `one of ${known.join(", ")}`);
  }
  const merged = { ...PRODUCTION_PRAGMAS };
  for (const key of known as (keyof PragmaSettings)[]) {
    const value = overrides[key];
    if (value === undefined) continue;
    VALIDATORS[key](value, `pragmas.${key}`);
    (merged as Record<string, unknown>)[key] = value;
  }
  return Object.freeze(merged);
}

/**
 * Applies the settings to a connection. busy_timeout goes first so that switching the journal
 * mode waits for other connections instead of failing. Read-only connections skip the settings
 * that write to the file.
 */
export function applyPragmas(connection: BetterSqlite3.Database, settings: PragmaSettings, readonly: boolean): void {
  connection.pragma(`busy_timeout = ${settings.busyTimeoutMs}`);
  if (!readonly && connection.name !== ":memory:" && connection.name !== "") {
    connection.pragma(`journal_mode = ${settings.journalMode}`);
  }
  connection.pragma(`synchronous = ${settings.synchronous}`);
  connection.pragma(`foreign_keys = ${settings.foreignKeys ? "ON" : "OFF"}`);
  connection.pragma(`temp_store = ${settings.tempStore}`);
  connection.pragma(`cache_size = ${-settings.cacheSizeKiB}`);
  connection.pragma(`mmap_size = ${settings.mmapSizeBytes}`);
  connection.pragma(`wal_autocheckpoint = ${settings.walAutocheckpointPages}`);
}
