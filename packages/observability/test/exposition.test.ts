import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { QueueMetrics, serveMetrics, TaskFeed, TaskLogger, toPrometheus } from "@queue/observability";
import { runTypeScript } from "@queue/test-support";
import { Worker } from "@queue/worker-engine";
import { describe, expect, it } from "vitest";
import { harness, onCleanup } from "./helpers.js";

describe("toPrometheus", () => {
  it("renders gauges with HELP and TYPE lines, escaped labels and the health status", async () => {
    const { db, clock } = harness();
    // The client refuses such a type name; the exporter must still escape what another tool wrote.
    db.connection
      .prepare("INSERT INTO tasks (type, run_after, created_at, updated_at) VALUES (?, ?, ?, ?)")
      .run('quote"back\\slash\nnewline', clock.now(), clock.now(), clock.now());
    const text = toPrometheus(await new QueueMetrics(db).snapshot());
    expect(text).toContain("# HELP queue_tasks Tasks in the queue file, by status.\n# TYPE queue_tasks gauge\n");
    // The quantile label is reserved for summaries.
    expect(text).toContain("# TYPE queue_task_wait_seconds summary\n");
    expect(text).toContain("# TYPE queue_task_run_seconds summary\n");
    expect(text).toContain('queue_tasks{status="queued"} 1\n');
    expect(text).toContain('queue_active_tasks{type="quote\\"back\\\\slash\\nnewline",status="queued"} 1\n');
    expect(text).toContain("queue_health_status 0\n");
    expect(text).not.toContain("NaN");
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) queue_\w+ .+|queue_\w+(\{[^}]*\})? -?[\d.e+-]+)$/);
  });
});

describe("serveMetrics", () => {
  it("serves /metrics and /healthz on 127.0.0.1, behind a bearer token when one is set", async () => {
    const { db } = harness();
    const server = await serveMetrics({ metrics: new QueueMetrics(db), port: 0, token: "s3cret" });
    onCleanup(() => new Promise((resolve) => server.close(resolve)));
    const address = server.address() as AddressInfo;
    expect(address.address).toBe("127.0.0.1");
    const url = (path: string) => `http://127.0.0.1:${address.port}${path}`;
    const auth = { headers: { authorization: "Bearer s3cret" } };
    expect((await fetch(url("/metrics"))).status).toBe(401);
    const metrics = await fetch(url("/metrics"), auth);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
    expect(await metrics.text()).toContain("queue_tasks{");
    const health = await fetch(url("/healthz"), auth);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", reasons: [] });
    expect((await fetch(url("/nope"), auth)).status).toBe(404);
  });
});

describe("TaskLogger", () => {
  it("writes, reads per task and recent by level, and deletes old lines in batches", async () => {
    const { db, clock, client } = harness();
    const { task } = await client.enqueue("t", null);
    const logger = new TaskLogger(db);
    await logger.write(task.id, "info", "starting", { step: 1 });
    await logger.write(task.id, "error", "failed", { code: "E1" });
    clock.advance(10 * 86_400_000);
    await logger.write(task.id, "warn", "later");
    expect((await logger.forTask(task.id)).map((line) => [line.level, line.message, line.details])).toEqual([
      ["info", "starting", { step: 1 }],
      ["error", "failed", { code: "E1" }],
      ["warn", "later", null],
    ]);
    expect((await logger.recent({ levels: ["error", "warn"] })).map((line) => line.message)).toEqual(["later", "failed"]);
    expect(await logger.cleanup({ olderThanMs: 86_400_000, batchSize: 1 })).toBe(2);
    expect((await logger.forTask(task.id)).map((line) => line.message)).toEqual(["later"]);
    await expect(logger.write(task.id, "loud" as never, "x")).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});

describe("TaskFeed", () => {
  it("follows changes written by another process, in order, and by a worker here", async () => {
    const { db } = harness();
    const feed = new TaskFeed(db, { batchSize: 7 });
    expect(await feed.poll()).toEqual([]);
    const result = await runTypeScript(fileURLToPath(new URL("./fixtures/enqueue.ts", import.meta.url)), [db.path, "20"]);
    expect(result.stderr).toBe("");
    const enqueued = await feed.poll();
    expect(enqueued.map((task) => (task.payload as { n: number }).n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(enqueued.every((task) => task.status === "queued")).toBe(true);
    await new Worker({ db, concurrency: 5, handlers: { remote: () => "done" } }).runUntilEmpty();
    const finished = await feed.poll();
    expect(new Set(finished.filter((task) => task.status === "completed").map((task) => task.id)).size).toBe(20);
    expect(await feed.poll()).toEqual([]);
  });
});
