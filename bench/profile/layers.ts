import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { QueueClient } from "@queue/client";
import { insertTask, openQueueDatabase, serializeJson, taskFromRow } from "@queue/core";
import { rawSingleInserts } from "../src/raw.js";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const payload = { to: "someone@example.com", subject: "hello", attempt: 1 };
const N = 20_000;
const row = (now: number) => ({
  type: "bench",
  payload: serializeJson(payload, { what: "payload", maxBytes: 1e6 }),
  priority: 0,
  runAfter: now,
  maxAttempts: 3,
  idempotencyKey: null,
  timeoutMs: null,
  requiredCapabilities: null,
});
for (let round = 0; round < 3; round++) {
  const results: Record<string, number> = {};
  results.raw = rawSingleInserts(join(dir, `raw${round}.db`), N);
  {
    const db = openQueueDatabase({ path: join(dir, `tx${round}.db`) });
    const t = performance.now();
    for (let i = 0; i < N; i++) await db.transaction((tx) => insertTask(tx, row(tx.clock.now()), tx.clock.now()));
    results["await transaction(insertTask)"] = (N / (performance.now() - t)) * 1000;
    db.close();
  }
  {
    const db = openQueueDatabase({ path: join(dir, `txm${round}.db`) });
    const t = performance.now();
    for (let i = 0; i < N; i++) taskFromRow((await db.transaction((tx) => insertTask(tx, row(tx.clock.now()), tx.clock.now()))).row);
    results["+ taskFromRow"] = (N / (performance.now() - t)) * 1000;
    db.close();
  }
  {
    const client = new QueueClient({ path: join(dir, `c${round}.db`) });
    const t = performance.now();
    for (let i = 0; i < N; i++) await client.enqueue("bench", payload);
    results["client.enqueue"] = (N / (performance.now() - t)) * 1000;
    await client.close();
  }
  console.log(
    Object.entries(results)
      .map(([k, v]) => `${k}=${Math.round(v)}`)
      .join("  "),
  );
}
