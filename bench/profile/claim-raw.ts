import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { buildClaimSql, openQueueDatabase } from "@queue/core";
import { fillQueue } from "../src/raw.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const N = 40_000;
const sql = buildClaimSql({ index: "tasks_queued_by_priority", orderBy: "priority, run_after, id" }, { types: true, capabilities: true });
for (let round = 0; round < 3; round++)
  for (const mode of ["objects", "raw arrays"]) {
    const path = join(dir, `${mode.replace(/\W/g, "")}${round}.db`);
    fillQueue(path, N);
    const db = openQueueDatabase({ path });
    const claim = db.connection.prepare(sql);
    if (mode === "raw arrays") claim.raw(true);
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
    console.log(mode.padEnd(14), Math.round((total / (performance.now() - t)) * 1000));
    db.close();
  }
