import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SluiceError, type StreamingContext, type StreamingEvent } from 'sluice';
import { monitorRoutes } from './dashboard-routes.js';
import { removeDiscoveryFile, writeDiscoveryFile } from './discovery-file.js';
import { EventStream } from './event-stream.js';
import { JobStatus } from './job-status.js';
import { isLoopback, namesThisMachine, TokenCheck } from './monitor-access.js';
import { findRoute, sendJson, sendText, type RouteTable } from './monitor-routes.js';
import { prometheusMetrics, type PrometheusMetrics } from './prometheus-metrics.js';
import { loadAssets } from './static-assets.js';

/** Options of {@link serveMonitor}. */
export interface MonitorOptions {
  /** The port to listen on; 0 (the default) takes any free one (read it from `MonitorServer.port`). */
  readonly port?: number;
  /** The address to listen on; `'127.0.0.1'` by default (this machine only). Any other needs `token` or `allowUnauthenticated`. */
  readonly host?: string;
  /** A bearer token every request must give (`Authorization: Bearer <token>`; the dashboard: open `/?token=<token>` once). */
  readonly token?: string;
  /** Serve a non-loopback host without a token anyway (logged as a warning). */
  readonly allowUnauthenticated?: boolean;
  /** The metrics `/metrics` answers; by default `prometheusMetrics(ctx)`, made and closed by the server. */
  readonly metrics?: PrometheusMetrics;
  /** Serve the dashboard at `/` (needs the `uplot` package); `true` by default. */
  readonly dashboard?: boolean;
  /** The bytes an event-stream client may leave unread before it is dropped; 1 MiB by default. */
  readonly maxBufferedBytes?: number;
}

/** A running monitor server. */
export interface MonitorServer {
  /** Where it answers, such as `http://127.0.0.1:43121/`. */
  readonly url: string;
  readonly port: number;
  /** Event-stream clients connected now. */
  readonly eventClients: number;
  /** Stops the server: ends the event streams, closes every connection, removes the discovery file. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves a streaming context's monitor on one small HTTP server: the dashboard at `/`,
 * Prometheus metrics at `/metrics`, the batches as server-sent events at `/events`, and the
 * read-only API `/api/progress`, `/api/state/<operator>?key=&prefix=&limit=` and `/api/query?sql=`
 * (SQL over the committed state, with the optional peer `@duckdb/node-api`). No endpoint
 * changes the job: any method but GET and HEAD is refused (405). With a checkpoint it writes the
 * discovery file `sluice-monitor.json` into the checkpoint directory. It closes when the context
 * stops, after telling the event streams. See docs/monitoring.md.
 *
 * @throws TypeError for a non-loopback `host` without `token` or `allowUnauthenticated`, an empty
 * token, a bad port, or a dashboard without the `uplot` package; SluiceError `MONITOR_UNAVAILABLE`
 * when it cannot listen or write its discovery file.
 * @example
 * const monitor = await serveMonitor(ctx, { port: 9090 });
 * console.log(`dashboard at ${monitor.url}`);
 */
export async function serveMonitor(ctx: StreamingContext, options: MonitorOptions = {}): Promise<MonitorServer> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`serveMonitor: port ${port} is not a port number (0 to 65535; 0 takes any free port).`);
  if (options.token === '') throw new TypeError('serveMonitor: the token is empty; give a long random string, or leave the option out.');
  const access = options.token === undefined ? undefined : new TokenCheck(options.token);
  if (access === undefined && !isLoopback(host)) {
    if (options.allowUnauthenticated !== true) {
      throw new TypeError(`serveMonitor: host ${host} accepts connections from other machines; give a token ({ token }), or pass { allowUnauthenticated: true } to serve without one.`);
    }
    ctx.logger.warn({ host }, 'the monitor serves a non-loopback host without a token: anyone who reaches it can read the metrics and the state');
  }
  const assets = options.dashboard === false ? new Map() : await loadAssets();
  const metrics = options.metrics ?? prometheusMetrics(ctx);
  const status = new JobStatus(ctx);
  const events = new EventStream(options.maxBufferedBytes ?? 1024 * 1024);
  const routes = monitorRoutes({ ctx, status, events, metrics, assets });
  const checkHost = access === undefined && isLoopback(host);
  const server = createServer((req, res) => {
    if (checkHost && !namesThisMachine(req.headers.host)) {
      sendText(res, 403, 'This monitor answers requests for localhost only (the Host header names another machine).\n');
      return;
    }
    handle(routes, access, options.token, req, res).catch((error: unknown) => {
      ctx.logger.warn({ err: error, url: req.url }, 'a monitor request failed');
      if (!res.headersSent) sendText(res, 500, 'The monitor could not answer this request.\n');
      else res.destroy();
    });
  });
  limit(server);
  await listen(server, port, host);
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${bound}/`;
  const location = ctx.checkpoint?.location;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      removeListener();
      events.end();
      if (options.metrics === undefined) metrics.close();
      await new Promise<void>((resolve) => {
        server.close(() => { resolve(); });
        server.closeAllConnections();
      });
      if (location !== undefined) await removeDiscoveryFile(location);
    })());
  const removeListener = ctx.addListener((event) => {
    status.update(event);
    relay(event, status, events);
    if (event.type === 'contextStopped') {
      close().catch((error: unknown) => {
        ctx.logger.warn({ err: error }, 'the monitor did not close cleanly');
      });
    }
  });
  if (location !== undefined) {
    try {
      await writeDiscoveryFile(location, { url, pid: process.pid, token: access !== undefined });
    } catch (error) {
      // Closing removes no file here, and its failure to would only hide this error.
      await close().catch(() => undefined);
      throw new SluiceError('MONITOR_UNAVAILABLE', `serveMonitor cannot write its discovery file into the checkpoint directory ${location}: ${(error as Error).message}. Check the directory's permissions.`, { cause: error });
    }
  }
  if (ctx.state === 'stopped') await close();
  return {
    url,
    port: bound,
    get eventClients() {
      return events.size;
    },
    close,
  };
}

/** The host of the server's URL: a wildcard address is reached on this machine's loopback. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Sends one listener event to the event streams: a batch, a failure, the stop. */
function relay(event: StreamingEvent, status: JobStatus, events: EventStream): void {
  switch (event.type) {
    case 'batchCompleted':
      events.send('batch', event.progress);
      return;
    case 'batchFailed':
      events.send('failed', status.error);
      return;
    case 'contextStopped':
      events.send('stopped', { status: status.status, error: status.error, uptimeMs: status.snapshot().uptimeMs });
      return;
    case 'contextStarted':
      events.send('started', { status: status.status });
      return;
    case 'batchStarted':
      return;
  }
}

async function handle(routes: RouteTable, access: TokenCheck | undefined, token: string | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, 'The monitor is read-only: it answers GET and HEAD only.\n', { allow: 'GET, HEAD' });
    return;
  }
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  if (access !== undefined) {
    const how = access.accepts(req, query);
    if (how === undefined) {
      sendText(res, 401, 'This monitor needs its token: send Authorization: Bearer <token>, or open /?token=<token> in the browser.\n', { 'www-authenticate': 'Bearer' });
      return;
    }
    if (how === 'query' && token !== undefined) res.setHeader('set-cookie', TokenCheck.cookie(token));
  }
  const route = findRoute(routes, path);
  if (route === undefined) {
    sendJson(res, 404, { error: `No such page: ${path.slice(0, 200)}. The monitor serves /, /metrics, /events, /api/progress, /api/checkpoint, /api/state/<operator> and /api/query?sql=.` });
    return;
  }
  await route.handler({ req, res, query, rest: route.rest });
}

/** Bounds what one client can hold: slow headers, endless requests, too many connections. */
function limit(server: Server): void {
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.maxHeadersCount = 100;
  server.maxConnections = 256;
  server.on('clientError', (error: Error & { code?: string }, socket) => {
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    else socket.destroy();
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error & { code?: string }): void => {
      reject(new SluiceError('MONITOR_UNAVAILABLE', `serveMonitor cannot listen on ${host}:${port}: ${error.code ?? error.message}. Choose another port (0 takes any free one) or host.`, { cause: error }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
