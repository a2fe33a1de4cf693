import type { Key, KeyPart, Pair, StreamingContext } from 'sluice';
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
 * The state of the stateful operator named `name` (its `name` option, or `kind#position`), for
 * services that embed Sluice. Reads never see a batch in progress: they see the state as of the
 * last completed batch.
 *
 * @throws TypeError when no stateful operator has that name, and on reads before `start()`;
 * SluiceError `STATE_IO_FAILED` or `STATE_CORRUPT` on reads the operator's store cannot do or
 * decode (`STATE_IO_FAILED` too for a LevelDB store read after the context stopped, which closed it).
 * @example
 * const fraud = queryableState<string, CardStats>(ctx, 'card-stats');
 * const stats = await fraud.get('card-42');
 */
export function queryableState<K extends Key, S>(ctx: StreamingContext, name: string): QueryableState<K, S> {
  const operator = ctx.graph.nodes.find((node): node is StatefulDStream<unknown> => node instanceof StatefulDStream && node.describe === name);
  if (operator === undefined) {
    const names = ctx.graph.nodes.filter((node) => node instanceof StatefulDStream).map((node) => node.describe);
    throw new TypeError(`No stateful operator is named '${name}'${names.length === 0 ? '' : ` (there are: ${names.join(', ')})`}; name one with its name option.`);
  }
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
