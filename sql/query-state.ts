import type { Key, StreamingContext } from 'sluice';
import { readCheckpointStates, readContextStates, type OperatorStateView, type StateEntryView } from 'sluice/checkpoint';
import { StatefulDStream } from 'sluice/extend';
import { queryableState, type KeyedStateStream } from 'sluice/state';
import { commitGateOf } from './commit-gate.js';
import { runReadOnlyQuery, type StateQueryOptions, type StateQueryResult } from './read-only-query.js';
import { stateTable } from './state-tables.js';

/** The kinds whose state a context without a checkpoint exposes (their stores hold it; windows keep theirs in memory). */
const STORE_KINDS: ReadonlySet<string> = new Set(['updateStateByKey', 'mapWithState']);

/**
 * Runs a read-only SQL query (DuckDB's dialect) over the committed state of a running job's
 * stateful operators: each is a table named by the operator's id (its `name`, or `kind#n`; quote
 * it in SQL: `"updateStateByKey#0"`), laid out as `stateTable` says (`key`, for event-time
 * windows `window_start` and `window_end`, then the value's fields or `value`). All tables are
 * as of one committed batch while the job keeps running: with a LevelDB checkpoint, read at one
 * snapshot of it (the last persisted batch; event-time windows' open windows included); without
 * one, from the stores of `updateStateByKey` and `mapWithState` between two commits (a commit
 * waits for the read, not for the query, which runs on a copy).
 *
 * The query runs in a DuckDB database of its own that cannot read files or the network: it must
 * be exactly one `SELECT` (or `WITH ... SELECT`), as DuckDB's parser judges it.
 *
 * @throws TypeError before `start()`, after `stop()`, and for a query that is not one SELECT.
 * @throws SluiceError `SQL_FAILED` for a query that does not bind or fails; the checkpoint's
 * read errors (`CONTEXT_STOPPED`, `CHECKPOINT_CORRUPT`).
 * @example const { rows } = await queryState(ctx, 'SELECT key, value FROM counts ORDER BY value DESC LIMIT 10');
 */
export async function queryState(ctx: StreamingContext, query: string, options: StateQueryOptions = {}): Promise<StateQueryResult> {
  if (ctx.state !== 'active') throw new TypeError(`queryState: the context is ${ctx.state === 'initialized' ? 'not started yet' : 'stopped'}; query a running job (a stopped one's checkpoint: queryCheckpoint).`);
  let views: readonly OperatorStateView[];
  let batchId: number | undefined;
  if (ctx.checkpoint !== undefined) {
    views = await readContextStates(ctx);
    batchId = persistedBatch(views);
  } else {
    [views, batchId] = await commitGateOf(ctx.graph).read(() => readStores(ctx));
  }
  return runReadOnlyQuery(views.map(stateTable), query, batchId, options);
}

/**
 * {@link queryState} over a stopped job's checkpoint (what `sluice query <checkpoint> <sql>`
 * runs): every keyed stateful operator's state as of the last persisted batch.
 *
 * @throws SluiceError `CHECKPOINT_UNAVAILABLE` when a running job holds the checkpoint (ask its
 * monitor: `GET /api/query`), as `readCheckpointState` otherwise; as `queryState`.
 */
export async function queryCheckpoint(directory: string, query: string, options: StateQueryOptions = {}): Promise<StateQueryResult> {
  const views = await readCheckpointStates(directory);
  return runReadOnlyQuery(views.map(stateTable), query, persistedBatch(views), options);
}

function persistedBatch(views: readonly OperatorStateView[]): number | undefined {
  return views.find((view) => view.batchId !== undefined)?.batchId;
}

/**
 * The state of a context without a checkpoint, from its operators' stores (queryable state), and
 * the batch it is as of (a store's version counts its commits, one a batch).
 */
async function readStores(ctx: StreamingContext): Promise<[OperatorStateView[], number | undefined]> {
  const views: OperatorStateView[] = [];
  let batchId: number | undefined;
  for (const node of ctx.graph.nodes) {
    if (!(node instanceof StatefulDStream) || !STORE_KINDS.has(node.kind)) continue;
    if (node.store.version > 0) batchId = node.store.version - 1;
    const entries: StateEntryView[] = [];
    for await (const [key, value] of queryableState(node as unknown as KeyedStateStream<unknown, Key, unknown>).entries()) entries.push({ key, value });
    views.push({ operator: node.describe, kind: node.kind, batchId: undefined, entries, more: false });
  }
  return [views, batchId];
}
