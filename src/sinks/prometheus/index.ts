/** The Prometheus exporter: exposition text, its HTTP server and the sink that ties them to a feed. */
export { type ExtraCounters, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './exposition.js';
export { type HttpReply, type HttpRoute, type MetricsServer, startMetricsServer } from './server.js';
export { PrometheusSink, type PrometheusSinkOptions, type PrometheusSinkStats } from './sink.js';
