/**
 * `sluice/monitor`: seeing a running job. Prometheus metrics (`prometheusMetrics`, with the
 * optional peer `prom-client`) and the monitor server (`serveMonitor`): `/metrics`, a live
 * dashboard in the browser (charts drawn with the optional peer `uplot`), server-sent events and a
 * read-only JSON API. Importing this module changes nothing by itself. See docs/monitoring.md.
 */
export type { MonitorDiscovery } from './discovery-file.js';
export type { MonitorFailure, MonitorSnapshot } from './job-status.js';
export { prometheusMetrics, type PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.js';
export { serveMonitor, type MonitorOptions, type MonitorServer } from './serve-monitor.js';
