import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { QueueClient } from "@queue/client";
import { openQueueDatabase } from "@queue/core";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
import { Worker } from "@queue/worker-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const exporter = new InMemorySpanExporter();
beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
  removeTempDirs();
});

const parentOf = (span: { parentSpanContext?: { spanId: string } }) => span.parentSpanContext?.spanId;

describe("OpenTelemetry", () => {
  it("links the handler's span to the span that enqueued the task, and nests the handler's own spans", async () => {
    const db = openQueueDatabase({ path: tempDbPath() });
    const client = new QueueClient({ db });
    const tracer = trace.getTracer("app");
    const { task } = await tracer.startActiveSpan("http request", async (request) => {
      const result = await client.enqueue("send-email", { to: "ada@example.com" });
      request.end();
      return result;
    });
    expect(task.traceParent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const worker = new Worker({
      db,
      handlers: { "send-email": () => tracer.startActiveSpan("smtp call", (inner) => inner.end()) },
    });
    await worker.runUntilEmpty();
    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.find((span) => span.name === name);
    const request = byName("http request");
    const send = byName("send-email send");
    const processing = byName("send-email process");
    const inner = byName("smtp call");
    expect([request, send, processing, inner].every((span) => span !== undefined)).toBe(true);
    const traceId = request?.spanContext().traceId;
    for (const span of [send, processing, inner]) expect(span?.spanContext().traceId).toBe(traceId);
    expect(parentOf(send as never)).toBe(request?.spanContext().spanId);
    expect(parentOf(processing as never)).toBe(send?.spanContext().spanId);
    expect(parentOf(inner as never)).toBe(processing?.spanContext().spanId);
    expect(processing?.attributes).toMatchObject({ "messaging.message.id": String(task.id), "queue.attempt": 1 });
    expect(send?.attributes).toMatchObject({ "messaging.message.id": String(task.id) });
    db.close();
  });

  it("marks the processing span as failed when the handler throws", async () => {
    exporter.reset();
    const db = openQueueDatabase({ path: tempDbPath() });
    await new QueueClient({ db }).enqueue("boom", null, { maxAttempts: 1 });
    await new Worker({ db, handlers: { boom: () => Promise.reject(new Error("kaput")) } }).runUntilEmpty();
    const processing = exporter.getFinishedSpans().find((span) => span.name === "boom process");
    expect(processing?.status).toMatchObject({ code: 2, message: "kaput" });
    expect(processing?.events.some((event) => event.name === "exception")).toBe(true);
    db.close();
  });
});
