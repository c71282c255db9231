import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openQueueDatabase } from "@queue/core";
import { Worker } from "@queue/worker-engine";
import { fillQueue } from "../src/raw.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
for (let round = 0; round < 3; round++) {
  const path = join(dir, `q${round}.db`);
  fillQueue(path, 40_000);
  const db = openQueueDatabase({ path });
  let transactions = 0;
  const original = db.transaction.bind(db);
  db.transaction = ((fn: never) => {
    transactions += 1;
    return original(fn);
  }) as typeof db.transaction;
  const batches: number[] = [];
  const worker = new Worker({ db, concurrency: 50, handlers: { bench: () => undefined } });
  let claimedInTick = 0;
  worker.on("claimed", () => {
    claimedInTick += 1;
  });
  const t = performance.now();
  const timer = setInterval(() => {}, 1000);
  await worker.runUntilEmpty();
  clearInterval(timer);
  const elapsed = performance.now() - t;
  console.log(
    `tasks/s=${Math.round((40_000 / elapsed) * 1000)} transactions=${transactions} tasks/tx=${(40_000 / transactions).toFixed(1)}`,
  );
  db.close();
  void batches;
  void claimedInTick;
}
