// Optional OpenTelemetry support. When the application has @opentelemetry/api installed (an
// optional peer dependency), enqueues create PRODUCER spans and handler runs CONSUMER spans, and
// the producer's span context travels in the task as a W3C traceparent. Without it, nothing here
// costs more than one failed require at start-up.
import { createRequire } from "node:module";

/** The parts of @opentelemetry/api the queue uses (kept structural so the package is optional). */
export interface SpanLike {
  spanContext(): { traceId: string; spanId: string; traceFlags: number };
  isRecording(): boolean;
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  recordException(exception: unknown): unknown;
  end(): void;
}

interface OtelApi {
  trace: {
    getTracer(name: string): { startSpan(name: string, options: Record<string, unknown>, context?: unknown): SpanLike };
    getTracerProvider(): { getDelegateTracer?(name: string): unknown };
    getSpan(context: unknown): SpanLike | undefined;
    setSpan(context: unknown, span: SpanLike): unknown;
    setSpanContext(context: unknown, spanContext: Record<string, unknown>): unknown;
  };
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T };
  SpanKind: { PRODUCER: number; CONSUMER: number };
  SpanStatusCode: { ERROR: number };
}

let api: OtelApi | null | undefined;

function otel(): OtelApi | undefined {
  if (api === undefined) {
    try {
      api = createRequire(import.meta.url)("@opentelemetry/api") as OtelApi;
    } catch {
      api = null;
    }
  }
  return api ?? undefined;
}

/**
 * True when a span made now could matter: a tracer provider is registered, or there is a trace to
 * continue (an active span, or the task's producer). Otherwise the API's proxy would hand out a
 * fresh no-op tracer and span for every task, for nothing.
 */
function worthASpan(otelApi: OtelApi, name: string, parent: unknown, traceParent: string | null): boolean {
  if (traceParent !== null || otelApi.trace.getSpan(parent) !== undefined) return true;
  const provider = otelApi.trace.getTracerProvider();
  return typeof provider.getDelegateTracer !== "function" || provider.getDelegateTracer(name) !== undefined;
}

const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A span around one operation, or nothing when OpenTelemetry is not installed. */
export interface TaskSpan {
  /** The W3C traceparent identifying this span, to store in the task. */
  readonly traceParent: string;
  /** Runs `fn` with this span as the active one (so spans made inside are its children). */
  run<T>(fn: () => T): T;
  end(error?: unknown, attributes?: Record<string, string | number>): void;
}

const INVALID_TRACE_ID = "0".repeat(32);

/** undefined for the no-op span the API hands out when no tracer provider is registered. */
function wrap(otelApi: OtelApi, span: SpanLike, parentContext: unknown): TaskSpan | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  if (!span.isRecording() && traceId === INVALID_TRACE_ID) return undefined;
  const active = otelApi.trace.setSpan(parentContext, span);
  return {
    traceParent: `00-${traceId}-${spanId}-${traceFlags.toString(16).padStart(2, "0")}`,
    run: (fn) => otelApi.context.with(active, fn),
    end(error, attributes) {
      for (const [key, value] of Object.entries(attributes ?? {})) span.setAttribute(key, value);
      if (error !== undefined) {
        span.recordException(error);
        span.setStatus({ code: otelApi.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      }
      span.end();
    },
  };
}

/**
 * Whether an enqueue made now would get a span (OpenTelemetry is installed and there is a tracer
 * provider or an active span). A caller that defers its enqueues asks this first: a span must start
 * in the context of the code that asked for the work.
 */
export function enqueueSpansActive(): boolean {
  const otelApi = otel();
  return otelApi !== undefined && worthASpan(otelApi, "@queue/client", otelApi.context.active(), null);
}

/** Starts the span of an enqueue (a child of the caller's active span), if tracing is available. */
export function startEnqueueSpan(type: string): TaskSpan | undefined {
  const otelApi = otel();
  if (otelApi === undefined) return undefined;
  const parent = otelApi.context.active();
  if (!worthASpan(otelApi, "@queue/client", parent, null)) return undefined;
  const span = otelApi.trace.getTracer("@queue/client").startSpan(
    `${type} send`,
    {
      kind: otelApi.SpanKind.PRODUCER,
      attributes: { "messaging.system": "queue", "messaging.operation.type": "send", "messaging.destination.name": type },
    },
    parent,
  );
  return wrap(otelApi, span, parent);
}

/** Starts the span of a handler run, continuing the trace of the task's producer when known. */
export function startProcessSpan(task: { id: number; type: string; attempts: number; traceParent: string | null }): TaskSpan | undefined {
  const otelApi = otel();
  if (otelApi === undefined) return undefined;
  let parent = otelApi.context.active();
  if (!worthASpan(otelApi, "@queue/worker-engine", parent, task.traceParent)) return undefined;
  const match = task.traceParent === null ? null : TRACE_PARENT.exec(task.traceParent);
  if (match !== null) {
    parent = otelApi.trace.setSpanContext(parent, {
      traceId: match[1],
      spanId: match[2],
      traceFlags: Number.parseInt(match[3] ?? "0", 16),
      isRemote: true,
    });
  }
  const span = otelApi.trace.getTracer("@queue/worker-engine").startSpan(
    `${task.type} process`,
    {
      kind: otelApi.SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "queue",
        "messaging.operation.type": "process",
        "messaging.destination.name": task.type,
        "messaging.message.id": String(task.id),
        "queue.attempt": task.attempts,
      },
    },
    parent,
  );
  return wrap(otelApi, span, parent);
}
