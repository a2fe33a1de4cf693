import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request, as a route sees it. */
export interface RouteRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The query string's parameters. */
  readonly query: URLSearchParams;
  /** For a prefix route: the rest of the path after the prefix, percent-decoded. */
  readonly rest: string;
}

/** Answers one request; it must answer every request it is given. */
export type RouteHandler = (request: RouteRequest) => void | Promise<void>;

/**
 * The monitor's routes: exact paths, and prefix routes (`/api/state/` answers
 * `/api/state/<operator>`). A new read-only endpoint is one more entry; every route is a GET
 * (HEAD answers its headers).
 */
export interface RouteTable {
  readonly exact: Map<string, RouteHandler>;
  readonly prefix: Map<string, RouteHandler>;
}

/** The handler of `path` (the request's path, not decoded), and the decoded rest for a prefix route; `undefined` for a path with no route. */
export function findRoute(routes: RouteTable, path: string): { readonly handler: RouteHandler; readonly rest: string } | undefined {
  const exact = routes.exact.get(path);
  if (exact !== undefined) return { handler: exact, rest: '' };
  for (const [prefix, handler] of routes.prefix) {
    if (!path.startsWith(prefix) || path.length === prefix.length) continue;
    const raw = path.slice(prefix.length);
    if (raw.includes('/')) return undefined;
    try {
      return { handler, rest: decodeURIComponent(raw) };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Answers with JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** Answers with a JSON text made already. */
export function sendJsonText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff' });
  res.end(text);
}

/** Answers with plain text. */
export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff', ...headers });
  res.end(text);
}
