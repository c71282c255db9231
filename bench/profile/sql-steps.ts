import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildClaimSql, completeLeasedTask, openQueueDatabase, recoverExpiredLeases } from "@queue/core";
import { fillQueue } from "../src/raw.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const N = 40_000;
const rawClaim = `UPDATE tasks SET status = 'leased', lease_token = :token, locked_by = :workerId, lease_until = :leaseUntil, attempts = attempts + 1, started_at = :now, updated_at = :now WHERE id IN (SELECT id FROM tasks INDEXED BY tasks_queued_by_priority WHERE status = 'queued' AND run_after <= :now ORDER BY priority, run_after, id LIMIT :limit) RETURNING id`;
const shape = { index: "tasks_queued_by_priority", orderBy: "priority, run_after, id" };
const steps: Record<string, { claim: string; recover: boolean; filters: boolean }> = {
  "raw claim": { claim: rawClaim, recover: false, filters: false },
  "ours, no filters": { claim: buildClaimSql(shape), recover: false, filters: false },
  "ours + types/caps": { claim: buildClaimSql(shape, { types: true, capabilities: true }), recover: false, filters: true },
  "ours + recover": { claim: buildClaimSql(shape, { types: true, capabilities: true }), recover: true, filters: true },
};
for (let round = 0; round < 3; round++) {
  const line: string[] = [];
  for (const [name, step] of Object.entries(steps)) {
    const path = join(dir, `${name.replace(/\W/g, "")}${round}.db`);
    fillQueue(path, N);
    const db = openQueueDatabase({ path });
    const claim = db.statement<{ id: number }>(step.claim);
    const cpu = process.cpuUsage();
    for (let r = 0; ; r++) {
      const token = `t${r}`;
      const done = db.transactionSync((tx) => {
        const now = Date.now();
        if (step.recover) recoverExpiredLeases(tx, now);
        const params: Record<string, unknown> = { token, workerId: "w", leaseUntil: now + 1000, now, limit: 50 };
        if (step.filters) Object.assign(params, { types: '["bench"]', capabilities: "[]" });
        const rows = claim.all(params);
        for (const { id } of rows) completeLeasedTask(tx, id, token, "null", now);
        return rows.length === 0;
      });
      if (done) break;
    }
    const used = process.cpuUsage(cpu);
    line.push(`${name}=${Math.round(N / ((used.user + used.system) / 1e6))}`);
    db.close();
  }
  console.log(line.join("  "));
}
