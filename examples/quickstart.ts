// The quick-start example: a real queue file, a few tasks enqueued, claimed atomically under a
// lease, and completed, using @queue/core's transactions and claim statement directly.
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildClaimSql,
  COUNT_BY_STATUS_SQL,
  openQueueDatabase,
  QUEUED_BY_PRIORITY_INDEX,
  TASK_COLUMNS,
  type TaskRow,
  taskFromRow,
} from "@queue/core";

const path = process.env.QUEUE_DB_PATH ?? join(mkdtempSync(join(tmpdir(), "queue-demo-")), "queue.db");
const db = openQueueDatabase({ path });
console.log(`Queue database: ${db.path} (schema version ${db.schemaVersion()})\n`);

// Enqueue: one transaction for the whole batch.
const greetings = ["Ada", "Grace", "Edsger", "Barbara", "Donald"];
const enqueued = await db.transaction((tx) => {
  const insert = tx.statement<TaskRow>(
    `INSERT INTO tasks (type, priority, payload, run_after, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?) RETURNING ${TASK_COLUMNS}`,
  );
  const now = tx.clock.now();
  return greetings.map((name, index) => taskFromRow(insert.get("greet", index % 3, JSON.stringify({ name }), now, now, now) as TaskRow));
});
console.log(`Enqueued ${enqueued.length} tasks: ${enqueued.map((task) => `#${task.id}`).join(", ")}`);

// Claim and complete, two at a time, highest priority (lowest number) first.
const claim = buildClaimSql({ index: QUEUED_BY_PRIORITY_INDEX, orderBy: "priority, run_after, id" });
const complete = `UPDATE tasks SET status = 'completed', result = ?, finished_at = ?, updated_at = ?,
  lease_token = NULL, lease_until = NULL, locked_by = NULL WHERE id = ? AND lease_token = ?`;
const workerId = `demo-${process.pid}`;
for (;;) {
  const token = randomUUID();
  const claimed = await db.transaction((tx) => {
    const now = tx.clock.now();
    const rows = tx.statement<TaskRow>(claim).all({ now, leaseUntil: now + 30_000, token, workerId, limit: 2 });
    return rows.map((row) => taskFromRow<{ name: string }>(row));
  });
  if (claimed.length === 0) break;
  for (const task of claimed) {
    const result = { message: `Hello, ${task.payload.name}!` };
    const changed = await db.transaction((tx) => {
      const now = tx.clock.now();
      return tx.statement(complete).run(JSON.stringify(result), now, now, task.id, token).changes;
    });
    console.log(
      `  #${task.id} (priority ${task.priority}, attempt ${task.attempts}) -> ${result.message}${changed === 1 ? "" : " (lease lost)"}`,
    );
  }
}

const counts = db.statement<{ status: string; count: number }>(COUNT_BY_STATUS_SQL).all();
console.log(`\nStatus counts: ${counts.map((row) => `${row.status}=${row.count}`).join(", ")}`);
db.close();
