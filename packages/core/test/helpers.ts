import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type ClaimOrder, type OpenQueueDatabaseOptions, openQueueDatabase, type QueueDatabase } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { afterEach } from "vitest";

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

const opened: QueueDatabase[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
  removeTempDirs();
});

/** Opens a fresh database in a temp file; closed after the test. */
export function openTemp(options: OpenQueueDatabaseOptions = {}): QueueDatabase {
  const db = openQueueDatabase({ path: tempDbPath(), ...options });
  opened.push(db);
  return db;
}

export function track(db: QueueDatabase): QueueDatabase {
  opened.push(db);
  return db;
}

export function fileBytes(path: string): Buffer {
  return readFileSync(path);
}

export { tempDbPath };

/** Oldest runnable first, as the fifo strategy orders a claim. */
export const OLDEST_FIRST: ClaimOrder = {
  by: [
    { column: "run_after", direction: "asc" },
    { column: "id", direction: "asc" },
  ],
};

/** Lowest priority number first, then oldest, as the priority strategy orders a claim. */
export const MOST_URGENT_FIRST: ClaimOrder = {
  by: [
    { column: "priority", direction: "asc" },
    { column: "run_after", direction: "asc" },
    { column: "id", direction: "asc" },
  ],
};
