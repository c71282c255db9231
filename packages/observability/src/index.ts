export {
  DEFAULT_HEALTH_THRESHOLDS,
  type HealthReason,
  type HealthStatus,
  type HealthSummary,
  type HealthThresholdOverrides,
  type HealthThresholds,
  healthSummary,
  type Limit,
  MIN_FINISHED_FOR_FAILURE_RATE,
} from "./health.js";
export { createMetricsHandler, type MetricsHandlerOptions, type ServeMetricsOptions, serveMetrics } from "./http.js";
export { type MetricsOptions, type MetricsSnapshot, QueueMetrics, type WorkerActivity } from "./metrics.js";
export { type Percentiles, percentiles } from "./percentiles.js";
export { toPrometheus } from "./prometheus.js";
export { TaskFeed, type TaskFeedEvents, type TaskFeedOptions } from "./task-feed.js";
export { TaskLogger } from "./task-logger.js";
