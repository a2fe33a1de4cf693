import type { StreamingContext } from 'sluice';
import { inspectContext, inspectionJson, stateToJson } from 'sluice/checkpoint';
import type { EventStream } from './event-stream.js';
import type { JobStatus } from './job-status.js';
import { sendJson, sendJsonText, sendText, type RouteHandler, type RouteTable } from './monitor-routes.js';
import type { PrometheusMetrics } from './prometheus-metrics.js';
import type { StaticAsset } from './static-assets.js';
import { sqlQueryRoute } from './sql-query-route.js';
import { queryState } from './state-query.js';

/** What the routes read. */
export interface RouteParts {
  readonly ctx: StreamingContext;
  readonly status: JobStatus;
  readonly events: EventStream;
  readonly metrics: PrometheusMetrics;
  readonly assets: ReadonlyMap<string, StaticAsset>;
}

/**
 * The monitor's route table: the dashboard's files, `/metrics`, `/events`, `/api/progress`,
 * `/api/checkpoint` (what `sluice inspect --json` prints, of the running job's checkpoint) and
 * `/api/state/<operator>` (what `sluice state --json` prints), and `/api/query?sql=` (a read-only
 * SQL query over the job's state, what `sluice query --json` prints).
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
    sendJsonText(res, answer.status, stateToJson(answer.body));
  });
  exact.set('/api/query', sqlQueryRoute(ctx));
  exact.set('/api/checkpoint', async ({ res }) => {
    if (ctx.checkpoint === undefined) {
      sendJson(res, 404, { error: 'This job has no checkpoint: start its context with { checkpoint } (or getOrCreate) to have one to inspect.' });
      return;
    }
    if (ctx.state === 'initialized') {
      sendJson(res, 503, { error: 'The job has not started yet; its checkpoint can be inspected once it runs.' });
      return;
    }
    try {
      sendJsonText(res, 200, inspectionJson(await inspectContext(ctx)));
    } catch (error) {
      sendJson(res, 503, { error: `The checkpoint cannot be inspected now: ${(error as Error).message}` });
    }
  });
  return { exact, prefix };
}
