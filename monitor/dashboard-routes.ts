import type { StreamingContext } from 'sluice';
import type { EventStream } from './event-stream.js';
import type { JobStatus } from './job-status.js';
import { sendJson, sendText, type RouteHandler, type RouteTable } from './monitor-routes.js';
import type { PrometheusMetrics } from './prometheus-metrics.js';
import type { StaticAsset } from './static-assets.js';
import { queryState, stateReplacer } from './state-query.js';

/** What the routes read. */
export interface RouteParts {
  readonly ctx: StreamingContext;
  readonly status: JobStatus;
  readonly events: EventStream;
  readonly metrics: PrometheusMetrics;
  readonly assets: ReadonlyMap<string, StaticAsset>;
}

/**
 * The monitor's route table: the dashboard's files, `/metrics`, `/events`, `/api/progress` and
 * `/api/state/<operator>`.
 */
export function monitorRoutes(parts: RouteParts): RouteTable {
  const { ctx, status, events, metrics, assets } = parts;
  const exact = new Map<string, RouteHandler>();
  for (const [path, asset] of assets) {
    exact.set(path, ({ res }) => {
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': asset.body.byteLength,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
        // The page loads its own files only, and no other site may frame it.
        'content-security-policy': "default-src 'self'; frame-ancestors 'none'",
      });
      res.end(asset.body);
    });
  }
  exact.set('/metrics', async ({ res }) => {
    const text = await metrics.text();
    sendText(res, 200, text, { 'content-type': metrics.registry.contentType });
  });
  exact.set('/api/progress', ({ res }) => {
    sendJson(res, 200, status.snapshot());
  });
  exact.set('/events', ({ req, res }) => {
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
      res.end();
      return;
    }
    events.open(res, { event: 'snapshot', data: status.snapshot() });
  });
  const prefix = new Map<string, RouteHandler>();
  prefix.set('/api/state/', async ({ res, rest, query }) => {
    const answer = await queryState(ctx, rest, query);
    sendJson(res, answer.status, answer.body, stateReplacer);
  });
  return { exact, prefix };
}
