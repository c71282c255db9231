import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openQueueDatabase, TASK_COLUMNS } from "@queue/core";
import { fillQueue } from "../src/raw.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const N = 40_000;
const claimSql = (
  returning: string,
) => `UPDATE tasks SET status = 'leased', lease_token = :token, locked_by = 'w', lease_until = :until, attempts = attempts + 1, started_at = :now, updated_at = :now
  WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_queued_by_priority WHERE status = 'queued' AND run_after <= :now ORDER BY priority, run_after, id LIMIT 50) RETURNING ${returning}`;
for (let round = 0; round < 2; round++)
  for (const [name, returning, reselect] of [
    ["returning id", "id", false],
    ["returning all", TASK_COLUMNS, false],
    ["returning id + select all", "id", true],
  ] as const) {
    const path = join(dir, `${name.replace(/\W/g, "")}${round}.db`);
    fillQueue(path, N);
    const db = openQueueDatabase({ path });
    const claim = db.statement(claimSql(returning));
    const select = db.statement(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id IN (SELECT value FROM json_each(?))`);
    const t = performance.now();
    let total = 0;
    for (let i = 0; ; i++) {
      const rows = db.transactionSync(() => {
        const now = Date.now();
        const claimed = claim.all({ token: `t${i}`, until: now + 1000, now }) as { id: number }[];
        return reselect ? select.all(JSON.stringify(claimed.map((r) => r.id))) : claimed;
      });
      if (rows.length === 0) break;
      total += rows.length;
    }
    console.log(name.padEnd(28), Math.round((total / (performance.now() - t)) * 1000));
    db.close();
  }
