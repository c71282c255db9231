import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { openQueueDatabase, TASK_COLUMNS } from "@queue/core";

const dir = mkdtempSync(join(tmpdir(), "prof-"));
const payload = JSON.stringify({ to: "someone@example.com", subject: "hello", attempt: 1 });
const base =
  "INSERT INTO tasks (type, payload, priority, run_after, max_attempts, idempotency_key, timeout_ms, required_capabilities, created_at, updated_at)";
const variants: Record<string, [string, (now: number) => unknown]> = {
  positional: [`${base} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, (now) => ["bench", payload, 0, now, 3, null, null, null, now, now]],
  named: [
    `${base} VALUES (:type, :payload, :priority, :runAfter, :maxAttempts, :idempotencyKey, :timeoutMs, :requiredCapabilities, :now, :now)`,
    (now) => ({
      type: "bench",
      payload,
      priority: 0,
      runAfter: now,
      maxAttempts: 3,
      idempotencyKey: null,
      timeoutMs: null,
      requiredCapabilities: null,
      now,
    }),
  ],
  "positional+conflict": [
    `${base} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING`,
    (now) => ["bench", payload, 0, now, 3, null, null, null, now, now],
  ],
  "positional+returning id": [
    `${base} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    (now) => ["bench", payload, 0, now, 3, null, null, null, now, now],
  ],
  "positional+returning all": [
    `${base} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${TASK_COLUMNS}`,
    (now) => ["bench", payload, 0, now, 3, null, null, null, now, now],
  ],
};
for (let round = 0; round < 2; round++)
  for (const [name, [sql, params]] of Object.entries(variants)) {
    const db = openQueueDatabase({ path: join(dir, `${name}-${round}.db`) });
    const stmt = db.statement(sql);
    const isReturning = sql.includes("RETURNING");
    const started = performance.now();
    for (let b = 0; b < 100; b++)
      db.transactionSync(() => {
        const now = Date.now();
        for (let i = 0; i < 1000; i++) {
          const p = params(now);
          isReturning ? (Array.isArray(p) ? stmt.get(...p) : stmt.get(p)) : Array.isArray(p) ? stmt.run(...p) : stmt.run(p);
        }
      });
    console.log(name.padEnd(28), Math.round((100_000 / (performance.now() - started)) * 1000));
    db.close();
  }
