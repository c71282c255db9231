import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { type HealthThresholdOverrides, healthSummary } from "./health.js";
import type { QueueMetrics } from "./metrics.js";
import { toPrometheus } from "./prometheus.js";

export interface MetricsHandlerOptions {
  readonly metrics: QueueMetrics;
  /** When set, requests must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly thresholds?: HealthThresholdOverrides;
}

function authorized(request: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = Buffer.from(request.headers.authorization ?? "");
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function send(response: ServerResponse, status: number, type: string, body: string): void {
  response.writeHead(status, { "content-type": type, "cache-control": "no-store" });
  response.end(body);
}

/**
 * A node:http request listener serving `GET /metrics` (Prometheus text) and `GET /healthz` (JSON:
 * 200 when ok or warn, 503 when critical). Mount it on your own server or use `serveMetrics`.
 */
export function createMetricsHandler(options: MetricsHandlerOptions): RequestListener {
  return (request, response) => void respond(options, request, response);
}

async function respond(options: MetricsHandlerOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!authorized(request, options.token)) return send(response, 401, "text/plain", "unauthorized\n");
  if (request.method !== "GET") return send(response, 405, "text/plain", "method not allowed\n");
  const path = (request.url ?? "/").split("?")[0];
  try {
    if (path === "/metrics") {
      const snapshot = await options.metrics.snapshot();
      return send(response, 200, "text/plain; version=0.0.4", toPrometheus(snapshot, healthSummary(snapshot, options.thresholds)));
    }
    if (path === "/healthz") {
      const health = healthSummary(await options.metrics.snapshot(), options.thresholds);
      return send(response, health.status === "critical" ? 503 : 200, "application/json", `${JSON.stringify(health)}\n`);
    }
    return send(response, 404, "text/plain", "not found: try /metrics or /healthz\n");
  } catch (error) {
    return send(response, 500, "text/plain", `metrics unavailable: ${(error as Error).message}\n`);
  }
}

export interface ServeMetricsOptions extends MetricsHandlerOptions {
  readonly port?: number;
  /** Default 127.0.0.1: metrics are not exposed beyond this host unless asked. */
  readonly host?: string;
}

/** Starts an HTTP server for the metrics handler; resolves once it listens. */
export async function serveMetrics(options: ServeMetricsOptions): Promise<Server> {
  const server = createServer(createMetricsHandler(options));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 9464, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return server;
}
