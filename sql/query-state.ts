import type { Key, StreamingContext } from 'sluice';
import { readCheckpointStates, readContextStates, type OperatorStateView, type StateEntryView } from 'sluice/checkpoint';
import { StatefulDStream, type LastResultsView } from 'sluice/extend';
import { queryableState, type KeyedStateStream } from 'sluice/state';
import { commitGateOf } from './commit-gate.js';
import { runReadOnlyQuery, type StateQueryOptions, type StateQueryResult } from './read-only-query.js';
import { resultTable } from './result-tables.js';
import { stateTable, type StateTable } from './state-tables.js';

/** The kinds whose state a context without a checkpoint exposes (their stores hold it; windows keep theirs in memory). */
const STORE_KINDS: ReadonlySet<string> = new Set(['updateStateByKey', 'mapWithState']);

/** The keyed stateful kinds whose id names their last results: their state table is `<id>.state`. */
const RESULT_KINDS: ReadonlySet<string> = new Set(['eventTimeWindow']);

/**
 * Runs a read-only SQL query (DuckDB's dialect) over a running job's committed state and its
 * windows' last results. Each is a table named by the operator's id (its `name`, or `kind#n`;
 * quote it in SQL: `"updateStateByKey#0"`):
 *
 * - every window (batch-time and event-time, `windowJoin` too): its **last results**, the records
 *   it emitted in the last committed batch in which it emitted any (a batch in which it emits
 *   nothing keeps the earlier ones), with their `batch_time`, laid out as `resultTable` says;
 * - every keyed stateful operator: its state, laid out as `stateTable` says (`key`, then the
 *   value's fields or `value`); for an event-time window, whose id names its results, the table
 *   `<id>.state` holds its open windows (`window_start`, `window_end`).
 *
 * All tables are as of one committed batch while the job keeps running: with a LevelDB
 * checkpoint, the state is read at one snapshot of it (the last persisted batch) and the results
 * are those of that batch; without one, the stores of `updateStateByKey` and `mapWithState` and
 * the results are read between two commits (a commit waits for the read, not for the query, which
 * runs on a copy). The results live in memory only (one output batch per window, by reference):
 * not in the checkpoint, and after a restart only from the batches run since.
 *
 * The query runs in a DuckDB database of its own that cannot read files or the network: it must
 * be exactly one `SELECT` (or `WITH ... SELECT`), as DuckDB's parser judges it.
 *
 * @throws TypeError before `start()`, after `stop()`, and for a query that is not one SELECT.
 * @throws SluiceError `SQL_FAILED` for a query that does not bind (the message lists the tables)
 * or fails; the checkpoint's read errors (`CONTEXT_STOPPED`, `CHECKPOINT_CORRUPT`).
 * @example const { rows } = await queryState(ctx, 'SELECT key, value FROM counts ORDER BY value DESC LIMIT 10');
 * @example const { rows } = await queryState(ctx, 'SELECT key, value FROM "reduceByKeyAndWindow#4" ORDER BY value DESC');
 */
export async function queryState(ctx: StreamingContext, query: string, options: StateQueryOptions = {}): Promise<StateQueryResult> {
  if (ctx.state !== 'active') throw new TypeError(`queryState: the context is ${ctx.state === 'initialized' ? 'not started yet' : 'stopped'}; query a running job (a stopped one's checkpoint: queryCheckpoint).`);
  let views: readonly OperatorStateView[];
  let batchId: number | undefined;
  let results: LastResultsView;
  if (ctx.checkpoint !== undefined) {
    // Taken in the same synchronous step as the checkpoint's snapshot, which reads the state.
    const kept = ctx.graph.lastResults.snapshot();
    views = await readContextStates(ctx);
    const persisted = persistedBatch(views);
    results = kept.at(persisted);
    batchId = persisted ?? results.batchId;
  } else {
    // The results know the last committed batch (a store's version counts only the commits that changed it).
    [views, results] = await commitGateOf(ctx.graph).read(async () => [await readStores(ctx), ctx.graph.lastResults.snapshot().committed] as const);
    batchId = results.batchId;
  }
  return runReadOnlyQuery(tablesOf(views, results), query, batchId, options);
}

/**
 * {@link queryState} over a stopped job's checkpoint (what `sluice query <checkpoint> <sql>`
 * runs): every keyed stateful operator's state as of the last persisted batch (an event-time
 * window's open windows as `<id>.state`). A window's last results are not in a checkpoint: they
 * are tables only while the job runs.
 *
 * @throws SluiceError `CHECKPOINT_UNAVAILABLE` when a running job holds the checkpoint (ask its
 * monitor: `GET /api/query`), as `readCheckpointState` otherwise; as `queryState`.
 */
export async function queryCheckpoint(directory: string, query: string, options: StateQueryOptions = {}): Promise<StateQueryResult> {
  const views = await readCheckpointStates(directory);
  return runReadOnlyQuery(tablesOf(views, undefined), query, persistedBatch(views), options, "a window's last results are tables only while its job runs (queryState, or the job's monitor)");
}

/** The tables of a query: each window's last results, then each operator's state. */
function tablesOf(views: readonly OperatorStateView[], results: LastResultsView | undefined): StateTable[] {
  const tables = [...(results?.results.map(resultTable) ?? []), ...views.map((view) => ({ ...stateTable(view), name: stateTableName(view) }))];
  const names = new Set<string>();
  for (const { name } of tables) {
    if (names.has(name)) throw new TypeError(`queryState: two tables would be named '${name}' (an operator named like another's state table); rename one of the operators.`);
    names.add(name);
  }
  return tables;
}

/** An operator's state table: named by its id, or `<id>.state` for an operator whose id names its last results. */
function stateTableName(view: OperatorStateView): string {
  return RESULT_KINDS.has(view.kind) ? `${view.operator}.state` : view.operator;
}

function persistedBatch(views: readonly OperatorStateView[]): number | undefined {
  return views.find((view) => view.batchId !== undefined)?.batchId;
}

/** The state of a context without a checkpoint, from its operators' stores (queryable state). */
async function readStores(ctx: StreamingContext): Promise<OperatorStateView[]> {
  const views: OperatorStateView[] = [];
  for (const node of ctx.graph.nodes) {
    if (!(node instanceof StatefulDStream) || !STORE_KINDS.has(node.kind)) continue;
    const entries: StateEntryView[] = [];
    for await (const [key, value] of queryableState(node as unknown as KeyedStateStream<unknown, Key, unknown>).entries()) entries.push({ key, value });
    views.push({ operator: node.describe, kind: node.kind, batchId: undefined, entries, more: false });
  }
  return views;
}
