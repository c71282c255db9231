import type { QueueDatabase } from "../database.js";
import { EVERY_TYPE } from "../store/port.js";

/** The pause row that stops the whole queue. */
export const ALL_TYPES = EVERY_TYPE;

export function pauseType(db: QueueDatabase, type: string, now: number): void {
  db.statement("INSERT INTO queue_pauses (type, paused_at) VALUES (?, ?) ON CONFLICT (type) DO NOTHING").run(type, now);
}

export function resumeType(db: QueueDatabase, type: string): boolean {
  return db.statement("DELETE FROM queue_pauses WHERE type = ?").run(type).changes === 1;
}

export function pausedTypes(db: QueueDatabase): string[] {
  return db
    .statement<{ type: string }>("SELECT type FROM queue_pauses ORDER BY type")
    .all()
    .map((row) => row.type);
}

/** Whether any type (or the whole queue) is paused: one read of a table that is nearly always empty. */
export function anyPaused(db: QueueDatabase): boolean {
  return db.statement<{ paused: number }>("SELECT EXISTS (SELECT 1 FROM queue_pauses) AS paused").get()?.paused === 1;
}

/**
 * Claim filters that honour pauses. Both subqueries are uncorrelated, so SQLite evaluates each once
 * per claim, not once per candidate row.
 */
export const PAUSE_FILTERS: readonly string[] = [
  `NOT EXISTS (SELECT 1 FROM queue_pauses WHERE type = '${ALL_TYPES}')`,
  "type NOT IN (SELECT type FROM queue_pauses)",
];
