// Files for the crash-atomicity tests, and a helper that kills a crash-child at a chosen moment.
import { copyFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MIGRATIONS, openQueueDatabase, runMigrations } from "@queue/core";
import { spawnTypeScript } from "@queue/test-support";
import Database from "better-sqlite3";

const CHILD = fileURLToPath(new URL("./crash-child.ts", import.meta.url));

export interface CrashRun {
  /** The child finished the operation before the kill landed. */
  readonly finished: boolean;
  readonly signal: NodeJS.Signals | null;
  /** When it finished: how long the operation took, and what the child printed after "done". */
  readonly ms?: number;
  readonly detail?: string;
  readonly stderr: string;
}

/** Runs the child to completion and returns how long the operation took (ms) and its detail. */
export async function runToCompletion(args: readonly string[]): Promise<{ ms: number; detail: string }> {
  const result = await spawnTypeScript(CHILD, args).done;
  const match = /^done (\d+) (.*)$/m.exec(result.stdout);
  if (result.code !== 0 || match === null) throw new Error(`crash child ${args.join(" ")} failed: ${result.stderr}`);
  return { ms: Number(match[1]), detail: match[2] as string };
}

/** Starts the child and kills it with SIGKILL `delayMs` after it reports that the operation started. */
export async function killDuring(args: readonly string[], delayMs: number): Promise<CrashRun> {
  const { child, done } = spawnTypeScript(CHILD, args);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    const before = output;
    output += chunk.toString();
    if (!before.includes("started\n") && output.includes("started\n")) setTimeout(() => child.kill("SIGKILL"), delayMs);
  });
  const result = await done;
  const match = /^done (\d+) (.*)$/m.exec(result.stdout);
  return {
    finished: match !== null,
    signal: result.signal,
    stderr: result.stderr,
    ...(match === null ? {} : { ms: Number(match[1]), detail: match[2] }),
  };
}

/**
 * Kills runs of an operation until `trials` kills have landed while it was in progress (at most
 * three times as many runs). Delays are spread over the operation's measured length, one stratum
 * per trial, so kills land early, midway and late. A run that finishes before its kill teaches the
 * real length (the machine may be slower or faster than the estimate) and does not count.
 * `check` asserts the state left behind and describes it.
 */
export async function crashTrials(
  estimateMs: number,
  trials: number,
  run: (attempt: number, delayMs: number) => Promise<CrashRun>,
  check: (attempt: number, run: CrashRun) => string,
): Promise<{ landed: number; outcomes: string[] }> {
  let estimate = estimateMs;
  let landed = 0;
  const outcomes: string[] = [];
  for (let attempt = 0; landed < trials && attempt < trials * 3; attempt++) {
    const fraction = (landed + Math.random()) / trials;
    const delay = Math.round(estimate * (0.05 + 0.9 * fraction));
    const result = await run(attempt, delay);
    const outcome = check(attempt, result);
    if (result.finished) {
      estimate = Math.min(estimate, result.ms ?? estimate);
      outcomes.push(`kill at ${delay} ms came after the end (${result.ms} ms) -> ${outcome}`);
    } else {
      landed += 1;
      outcomes.push(`killed at ${delay} ms -> ${outcome}`);
    }
  }
  return { landed, outcomes };
}

/** A copy of `template` at `path` (with its -wal, if any). */
export function copyDatabase(template: string, path: string): void {
  copyFileSync(template, path);
  if (existsSync(`${template}-wal`)) copyFileSync(`${template}-wal`, `${path}-wal`);
}

/**
 * A queue file holding `completed` finished tasks (finished long ago) and, after them, one queued
 * task, so every completed task is old enough and none holds the highest id (which cleanup keeps).
 */
export function makeCompletedFile(path: string, completed: number): void {
  openQueueDatabase({ path }).close();
  const db = new Database(path);
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${completed})
    INSERT INTO tasks (type, status, payload, attempts, run_after, result, started_at, finished_at, created_at, updated_at)
    SELECT 'done', 'completed', json_object('n', i), 1, 1000, json_object('ok', i), 1000, 1000 + i, 1000, 1000 + i FROM n`);
  db.prepare("INSERT INTO tasks (type, payload, run_after, created_at, updated_at) VALUES ('pending', '{}', 0, 0, 0)").run();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/** A queue file with `rows` tasks whose payloads are about `payloadBytes` long: something to back up. */
export function makeLargeFile(path: string, rows: number, payloadBytes: number): void {
  openQueueDatabase({ path }).close();
  const db = new Database(path);
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
    INSERT INTO tasks (type, payload, run_after, created_at, updated_at)
    SELECT 'big', json_object('n', i, 'blob', hex(randomblob(${Math.ceil(payloadBytes / 2)}))), 0, 0, 0 FROM n`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/** A file at schema version `version` (an older release's schema), holding `rows` tasks. */
export function makeOldSchemaFile(path: string, version: number, rows: number): void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  runMigrations(
    db,
    MIGRATIONS.slice(0, version),
    () => 0,
    (work) => db.transaction(work).immediate(),
  );
  db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${rows})
    INSERT INTO tasks (type, payload, run_after, created_at, updated_at) SELECT 'old', json_object('n', i), i, i, i FROM n`);
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
}

/** The schema (type, name, SQL of every object) of a file, as text to compare. */
export function schemaOf(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return JSON.stringify(db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name").all());
  } finally {
    db.close();
  }
}
