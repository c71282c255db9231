import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { fillQueue, rawConnection } from "../src/raw.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
function run(path: string, pragmas: string[]) {
  fillQueue(path, 40_000);
  const c = rawConnection(path);
  for (const p of pragmas) c.pragma(p);
  const claim = c.prepare(
    `UPDATE tasks SET status = 'leased', lease_token = ?, locked_by = 'raw', lease_until = ?, attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_queued_by_priority WHERE status = 'queued' AND run_after <= ? ORDER BY priority, run_after, id LIMIT 50) RETURNING id`,
  );
  const complete = c.prepare(
    `UPDATE tasks SET status = 'completed', result = 'null', finished_at = ?, updated_at = ?, lease_token = NULL, lease_until = NULL, locked_by = NULL WHERE id = ? AND lease_token = ?`,
  );
  const t = performance.now();
  for (let r = 0; ; r++) {
    const ids = c
      .transaction(() => {
        const now = Date.now();
        return claim.all(`t${r}`, now + 1000, now, now, now) as { id: number }[];
      })
      .immediate();
    if (ids.length === 0) break;
    c.transaction(() => {
      const now = Date.now();
      for (const { id } of ids) complete.run(now, now, id, `t${r}`);
    }).immediate();
  }
  const v = Math.round((40_000 / (performance.now() - t)) * 1000);
  c.close();
  return v;
}
const sets: Record<string, string[]> = {
  defaults: [],
  "foreign_keys=ON": ["foreign_keys = ON"],
  "cache 32MiB": ["cache_size = -32768"],
  "temp_store=MEMORY": ["temp_store = MEMORY"],
  all: ["foreign_keys = ON", "cache_size = -32768", "temp_store = MEMORY"],
};
for (let round = 0; round < 3; round++)
  console.log(
    Object.entries(sets)
      .map(([name, p]) => `${name}=${run(join(dir, `${name.replace(/\W/g, "")}${round}.db`), p)}`)
      .join("  "),
  );
void Database;
