import type { Key, KeyPart, StreamingContext } from 'sluice';
import { parseKeyArgument, readContextState, type OperatorStateView, type StateEntryView, type StateReadOptions } from 'sluice/checkpoint';
import { StatefulDStream } from 'sluice/extend';
import { queryableState, type KeyedStateStream } from 'sluice/state';

/** The most entries one state query gives; `limit` defaults to {@link DEFAULT_STATE_LIMIT}. */
export const MAX_STATE_LIMIT = 10_000;
export const DEFAULT_STATE_LIMIT = 100;

/** What `GET /api/state/<operator>` answers. */
export interface StateAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * Answers a read of `operator`'s committed state, in the shape `sluice state` prints
 * (`OperatorStateView`): one key (`key`), the keys starting with a prefix (`prefix`: a string
 * matches the string keys that start with it, an array of key parts the array keys whose first
 * parts they are), or every key; at most `limit` (default 100, at most 10,000), in key order.
 * `key=` and `prefix=` are read by `parseKeyArgument`. A checkpointed job's state is read from
 * its checkpoint at one snapshot (its last persisted batch); a job without a checkpoint's from
 * its stores (as of its last completed batch).
 */
export async function queryState(ctx: StreamingContext, operator: string, query: URLSearchParams): Promise<StateAnswer> {
  const operators = ctx.graph.nodes.filter((node): node is StatefulDStream<unknown> => node instanceof StatefulDStream);
  const node = operators.find((o) => o.describe === operator);
  if (node === undefined) {
    const known = operators.map((o) => o.describe);
    return { status: 404, body: { error: `No stateful operator is named '${operator}'${known.length === 0 ? '; this job has none' : `; the job has: ${known.join(', ')}`}.`, operators: known } };
  }
  const limitText = query.get('limit');
  const limit = limitText === null ? DEFAULT_STATE_LIMIT : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_STATE_LIMIT) {
    return { status: 400, body: { error: `limit=${limitText ?? ''} is not a whole number from 1 to ${MAX_STATE_LIMIT}.` } };
  }
  const keyText = query.get('key');
  const prefixText = query.get('prefix');
  if (keyText !== null && prefixText !== null) return { status: 400, body: { error: 'Give key= or prefix=, not both.' } };
  const prefix = prefixText === null ? undefined : parseKeyArgument(prefixText);
  if (typeof prefix === 'number' || typeof prefix === 'boolean' || typeof prefix === 'bigint') {
    return { status: 400, body: { error: `prefix=${prefixText ?? ''}: a prefix is a string or an array of key parts; for the string, give prefix="${prefixText ?? ''}".` } };
  }
  if (ctx.state === 'initialized') return { status: 503, body: { error: 'The job has not started yet; its state can be read once it runs.' } };
  const options: StateReadOptions = { limit, ...(keyText === null ? {} : { key: parseKeyArgument(keyText) }), ...(prefix === undefined ? {} : { prefix }) };
  try {
    const view = ctx.checkpoint === undefined ? await readStores(node, options) : await readContextState(ctx, operator, options);
    return { status: 200, body: view };
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) return { status: 400, body: { error: error.message } };
    return { status: 503, body: { error: `The state of ${operator} cannot be read now: ${(error as Error).message}` } };
  }
}

/** The state of a job without a checkpoint, from the operator's store (queryable state). */
async function readStores(node: StatefulDStream<unknown>, options: StateReadOptions): Promise<OperatorStateView> {
  const state = queryableState(node as unknown as KeyedStateStream<unknown, Key, unknown>);
  const view = (entries: StateEntryView[], more: boolean): OperatorStateView => ({ operator: node.describe, kind: node.kind, batchId: undefined, entries, more });
  if (options.key !== undefined) {
    const value = await state.get(options.key);
    return view(value === undefined ? [] : [{ key: options.key, value }], false);
  }
  const { prefix } = options;
  const limit = options.limit ?? DEFAULT_STATE_LIMIT;
  const entries: StateEntryView[] = [];
  for await (const [key, value] of state.entries(Array.isArray(prefix) ? { prefix: prefix as readonly KeyPart[] } : {})) {
    if (typeof prefix === 'string' && !(typeof key === 'string' && key.startsWith(prefix))) continue;
    if (entries.length === limit) return view(entries, true);
    entries.push({ key, value });
  }
  return view(entries, false);
}
