import type { DStream, Key, KeyPart, Pair, StreamingContext } from 'sluice';
import { decodeKey, encodeKey, encodeKeyPrefix } from './key-codec.js';
import { entryKey, NS } from './state-layout.js';
import { StatefulDStream } from './stateful-dstream.js';

/** Read-only access to a stateful operator's committed state while the context runs. */
export interface QueryableState<K extends Key, S> {
  /** The key's state as of the last completed batch, or `undefined`. */
  get(key: K): Promise<S | undefined>;
  /**
   * Every `[key, state]` as of the last completed batch, in key order; with `prefix`, only the
   * array keys that start with those parts (`{ prefix: ['card-1'] }` matches `['card-1', 42]`).
   */
  entries(options?: { readonly prefix?: readonly KeyPart[] }): AsyncIterable<Pair<K, S>>;
}

/**
 * The stream of a keyed stateful operator, typed by its keys `K` and its states `S`: what
 * `updateStateByKey` and `mapWithState` return, and what {@link queryableState} reads.
 */
export interface KeyedStateStream<T, K extends Key, S> extends DStream<T> {
  /** The types of the operator's keys and states, for the compiler only: never set. */
  readonly stateTypes?: { readonly key: K; readonly state: S };
}

/**
 * The state of a keyed stateful operator (the stream `updateStateByKey` or `mapWithState`
 * returned), typed by that operator, for services that embed Sluice. Reads never see a batch in
 * progress: they see the state as of the last completed batch.
 *
 * @param operator - the operator's stream.
 * @throws TypeError when `operator` is not the stream of a stateful operator, and on reads before
 * `start()`; SluiceError `STATE_IO_FAILED` or `STATE_CORRUPT` on reads the operator's store cannot
 * do or decode (`STATE_IO_FAILED` too for a LevelDB store read after the context stopped, which closed it).
 * @example
 * const stats = transactions.pipe(keyBy((t) => t.card), mapWithState(cardStatsSpec));
 * const fraud = queryableState(stats); // QueryableState<string, CardStats>
 * const card42 = await fraud.get('card-42');
 */
export function queryableState<K extends Key, S>(operator: KeyedStateStream<unknown, K, S>): QueryableState<K, S>;
/**
 * The state of the stateful operator named `name` (its `name` option, or `kind#n`), with key and
 * state types the compiler cannot check.
 *
 * @deprecated Pass the operator's stream instead (`queryableState(counts)`), which types the keys
 * and states by the operator.
 * @throws TypeError when no stateful operator has that name, and on reads before `start()`.
 */
export function queryableState<K extends Key, S>(ctx: StreamingContext, name: string): QueryableState<K, S>;
export function queryableState<K extends Key, S>(target: KeyedStateStream<unknown, K, S> | StreamingContext, name?: string): QueryableState<K, S> {
  return readState<K, S>(name === undefined ? statefulOperator(target) : namedOperator(target as StreamingContext, name));
}

/** The stateful operator named `name` in `ctx` (the string form of {@link queryableState}). */
function namedOperator(ctx: StreamingContext, name: string): StatefulDStream<unknown> {
  const operator = ctx.graph.nodes.find((node): node is StatefulDStream<unknown> => node instanceof StatefulDStream && node.describe === name);
  if (operator === undefined) {
    const names = ctx.graph.nodes.filter((node) => node instanceof StatefulDStream).map((node) => node.describe);
    throw new TypeError(`No stateful operator is named '${name}'${names.length === 0 ? '' : ` (there are: ${names.join(', ')})`}; name one with its name option.`);
  }
  return operator;
}

function statefulOperator(target: unknown): StatefulDStream<unknown> {
  if (target instanceof StatefulDStream) return target;
  throw new TypeError('queryableState: pass the stream a stateful operator returned (updateStateByKey or mapWithState), such as queryableState(counts).');
}

/** A reader over `operator`'s committed state. */
function readState<K extends Key, S>(operator: StatefulDStream<unknown>): QueryableState<K, S> {
  return {
    async get(key) {
      const encoded = encodeKey(key);
      const entry = await operator.store.getCommitted(entryKey(encoded));
      return entry === undefined ? undefined : (operator.stateOf(entry, encoded) as S);
    },
    async *entries(options = {}) {
      const prefix = NS.entry + (options.prefix === undefined ? '' : encodeKeyPrefix(options.prefix));
      for await (const [row, entry] of operator.store.scanCommitted({ prefix })) {
        yield [decodeKey(row.slice(1)) as K, operator.stateOf(entry, row.slice(1)) as S];
      }
    },
  };
}
