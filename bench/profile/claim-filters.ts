import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { buildClaimSql, openQueueDatabase } from "@queue/core";

const priority = { shape: { index: "tasks_queued_by_priority", orderBy: "priority, run_after, id" } };

import { fillQueue } from "../src/raw.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const N = 40_000;
const variants = {
  "no filters": buildClaimSql(priority.shape, { types: false, capabilities: false }),
  types: buildClaimSql(priority.shape, { types: true, capabilities: false }),
  "types+caps": buildClaimSql(priority.shape, { types: true, capabilities: true }),
};
const db0 = openQueueDatabase({ path: join(dir, "plan.db") });
for (const r of db0.connection
  .prepare(`EXPLAIN QUERY PLAN ${variants["types+caps"]}`)
  .all({ now: 0, leaseUntil: 0, token: "t", workerId: "w", limit: 50, types: '["bench"]', capabilities: "[]" }) as { detail: string }[])
  console.log("  ", r.detail);
for (let round = 0; round < 2; round++)
  for (const [name, sql] of Object.entries(variants)) {
    const path = join(dir, `${name.replace(/\W/g, "")}${round}.db`);
    fillQueue(path, N);
    const db = openQueueDatabase({ path });
    const claim = db.statement(sql);
    const t = performance.now();
    let total = 0;
    for (let i = 0; ; i++) {
      const rows = db.transactionSync(() => {
        const now = Date.now();
        return claim.all({ now, leaseUntil: now + 1000, token: `t${i}`, workerId: "w", limit: 50, types: '["bench"]', capabilities: "[]" });
      });
      if (rows.length === 0) break;
      total += rows.length;
    }
    console.log(name.padEnd(14), Math.round((total / (performance.now() - t)) * 1000));
    db.close();
  }
