import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { QueuedTaskManager } from "@queue/integration";
import { removeTempDirs, tempDbPath } from "@queue/test-support";
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

describe("QueuedTaskManager with OpenTelemetry", () => {
  it("starts each run's send span in the context of the code that started the run, however runs are batched", async () => {
    const manager = new QueuedTaskManager({ path: tempDbPath(), embeddedWorker: { concurrency: 4, pollIntervalMs: 5 } });
    manager.registerModule("work", async () => undefined);
    const tracer = trace.getTracer("app");
    // Two requests start runs in the same turn of the event loop: one batch, two traces.
    const started = ["a", "b"].map((name) =>
      tracer.startActiveSpan(`request ${name}`, (request) => {
        const run = manager.startTask({ id: `run-${name}`, moduleId: "work", parameters: {} });
        request.end();
        return run;
      }),
    );
    await Promise.all(started);
    await manager.waitAll();
    await manager.close();
    const spans = exporter.getFinishedSpans();
    for (const name of ["a", "b"]) {
      const request = spans.find((span) => span.name === `request ${name}`);
      const sends = spans.filter((span) => span.name.endsWith(" send") && span.parentSpanContext?.spanId === request?.spanContext().spanId);
      expect([name, sends.length]).toEqual([name, 1]);
      expect(sends[0]?.spanContext().traceId).toBe(request?.spanContext().traceId);
    }
  });
});
