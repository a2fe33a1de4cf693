import type { StreamingContext } from 'sluice';
import { stateToJson } from 'sluice/checkpoint';
import { sendJson, sendJsonText, type RouteHandler } from './monitor-routes.js';

/** The longest query text `/api/query` takes. */
const MAX_QUERY_LENGTH = 10_000;

/** The part of `sluice/sql` the route uses, loaded on the first query only. */
type QueryState = (ctx: StreamingContext, query: string) => Promise<unknown>;

/**
 * `GET /api/query?sql=<query>`: a read-only SQL query over the job's committed state
 * (`queryState` of `sluice/sql`, which refuses anything but one SELECT and reads no file), what
 * the dashboard's query box and `sluice query` on a running job ask. `sluice/sql` and its peer
 * `@duckdb/node-api` are loaded on the first query, so a monitor without them serves everything
 * else (this answers 501, naming the package to install).
 */
export function sqlQueryRoute(ctx: StreamingContext): RouteHandler {
  let loaded: Promise<QueryState> | undefined;
  return async ({ res, query }) => {
    const text = query.get('sql');
    if (text === null || text.trim() === '') {
      sendJson(res, 400, { error: 'Give the query as sql=, such as /api/query?sql=SELECT%20*%20FROM%20counts.' });
      return;
    }
    if (text.length > MAX_QUERY_LENGTH) {
      sendJson(res, 400, { error: `The query is ${text.length} characters long; at most ${MAX_QUERY_LENGTH}.` });
      return;
    }
    if (ctx.state !== 'active') {
      sendJson(res, 503, { error: `The job is ${ctx.state === 'initialized' ? 'not started yet' : 'stopped'}; its state can be queried while it runs.` });
      return;
    }
    loaded ??= import('sluice/sql').then((sql) => sql.queryState);
    let queryState: QueryState;
    try {
      queryState = await loaded;
    } catch (error) {
      loaded = undefined;
      sendJson(res, 501, { error: `SQL queries need the optional peer dependency @duckdb/node-api (npm install @duckdb/node-api): ${(error as Error).message}` });
      return;
    }
    try {
      sendJsonText(res, 200, stateToJson(await queryState(ctx, text)));
    } catch (error) {
      const refused = error instanceof TypeError || (error as { code?: unknown }).code === 'SQL_FAILED';
      sendJson(res, refused ? 400 : 503, { error: (error as Error).message });
    }
  };
}
