import { Batch, DStream, type DurationLike, type InputDStream, type Key, type Pair, type StreamingContext } from 'sluice';
import { KeyMap, parsePositiveDuration, userFunctionFailed, type BatchContext } from 'sluice/extend';
import type { PostgresPool } from './pg-client.js';
import { bareQuery } from './table-load.js';
import { PostgresTableSource, type RefreshFailure, type TableVersion } from './table-source.js';
import { whereIs } from './transient.js';

/** Options of {@link postgresTable}. */
export interface PostgresTableOptions<R, K extends Key> {
  /** A pool to query through (a `pg.Pool`); the table never ends it. Give this or `connectionString`. */
  readonly pool?: PostgresPool;
  /** Where to connect (`postgres://user@host:5432/db`): the table opens a pool of one connection at start and ends it at stop. */
  readonly connectionString?: string;
  /** The query whose rows are the table (`SELECT code, rate FROM fx_rates ORDER BY code`); give an ORDER BY for rows in a stable order. */
  readonly query: string;
  /** The query's parameters (`$1`, `$2`, ...). */
  readonly params?: readonly unknown[];
  /** A row's join key. */
  readonly key: (row: R) => K;
  /** How often the table is loaded again (`'1m'`, `{ minutes: 5 }`, ms), or `'never'` (a string is a `DurationLike`). */
  readonly refresh: DurationLike;
  /** The table's stable name: its versions are logged under it, so keep it across restarts (default `postgresTable-<n>`). */
  readonly name?: string;
  /** How many times a load is tried again after a lost connection (default 3). */
  readonly retries?: number;
  /** The most rows the query may return (default 1,000,000); more fails the load. */
  readonly maxRows?: number;
  /**
   * What a refresh that fails after its retries does: `'fail'` (default) fails the batch, and the
   * context stops (a restart replays it); `'keepLast'` logs a warning and keeps the version in
   * force until the next refresh time.
   */
  readonly onRefreshFailure?: RefreshFailure;
  /** Partitions of the table's batches (default: the context's `defaultParallelism`). */
  readonly numPartitions?: number;
}

/** What the table holds for one version: its pairs as a batch, and an index by key, built once per version. */
export interface TableSnapshot<K extends Key, R> {
  /** The version's number (1, 2, ...: a new one each time a refresh finds other rows). */
  readonly version: number;
  /** Every `[key, row]` of the version: the same batch for every batch the version is in force for. */
  readonly batch: Batch<Pair<K, R>>;
  /** The rows of each key, in query order. */
  readonly index: KeyMap<K, readonly R[]>;
}

/**
 * A table loaded from PostgreSQL for stream-static joins: a stream of `[key, row]` pairs whose
 * every batch holds the whole version of the table in force for that batch. Join a keyed stream
 * with it (`joinTable`, `leftJoinTable`: a lookup per record; or `join`, `transformWith`).
 */
export class PostgresTable<K extends Key, R> extends DStream<Pair<K, R>> {
  /** The input the versions come from: its progress entry reports each new version's rows, the versions as offsets, and retries. */
  readonly input: InputDStream<R>;
  readonly #source: PostgresTableSource<R>;
  readonly #key: (row: R) => K;
  readonly #numPartitions: number | undefined;
  readonly #snapshots = new WeakMap<TableVersion<R>, TableSnapshot<K, R>>();

  /** @internal Use {@link postgresTable}. */
  constructor(input: InputDStream<R>, source: PostgresTableSource<R>, key: (row: R) => K, numPartitions: number | undefined) {
    super({ kind: 'postgresTable', graph: input.graph, parents: [input], name: `${input.sourceName}.table` });
    this.input = input;
    this.#source = source;
    this.#key = key;
    this.#numPartitions = numPartitions;
  }

  /**
   * The version in force for the batch of `bc` (the one its plan names), with its pairs and index.
   *
   * @throws SluiceError `SOURCE_OFFSET_UNAVAILABLE` when a replayed batch's version is lost.
   * @throws SluiceError `USER_FUNCTION_FAILED` when `key` throws for a row.
   */
  async snapshot(bc: BatchContext): Promise<TableSnapshot<K, R>> {
    const version = await this.#source.versionAt(bc.input(this.input.id).range.end);
    let snapshot = this.#snapshots.get(version);
    if (snapshot === undefined) {
      snapshot = this.#build(version, bc.defaultParallelism);
      this.#snapshots.set(version, snapshot);
    }
    return snapshot;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<Pair<K, R>>> {
    return (await this.snapshot(bc)).batch;
  }

  #build(version: TableVersion<R>, parallelism: number): TableSnapshot<K, R> {
    const pairs: Pair<K, R>[] = [];
    const index = new KeyMap<K, R[]>();
    for (const row of version.rows) {
      let key: K;
      try {
        key = this.#key(row);
      } catch (error) {
        throw userFunctionFailed(this.describe, error);
      }
      pairs.push(Object.freeze<Pair<K, R>>([key, row]));
      const slot = index.slotOf(key);
      if (slot < 0) index.add(key, [row]);
      else index.valueAt(slot).push(row);
    }
    return { version: version.version, batch: Batch.of(Object.freeze(pairs), this.#numPartitions ?? parallelism), index };
  }
}

/**
 * A table loaded from PostgreSQL for stream-static joins (Spark's stream-static join, Flink's
 * lookup join, Kafka Streams' GlobalKTable): the rows of `query`, keyed by `key`, loaded when the
 * context starts and again every `refresh`, at the plan of the first batch whose batch time
 * reaches the refresh time: a batch joins against one version, never a mix. A refresh whose rows
 * differ (by hash) from the version in force makes a new version. The version is the table's
 * offset in the batch's plan; with a checkpoint each version's rows are written to the table's
 * write-ahead log before a plan names it, so a batch replayed after a crash joins against exactly
 * the rows it joined against before, whatever PostgreSQL holds by then.
 *
 * Each batch where the version changes reports the new version's rows as the table's input
 * records, the versions as its offsets, and the retries.
 *
 * @throws TypeError at definition for missing or malformed options.
 * @throws SluiceError `SOURCE_FAILED` from `start()` when the first load fails (after `retries`
 * for a lost connection; at once for a bad query or a missing table), or returns more than
 * `maxRows` rows; from a batch, when a refresh fails that way under `onRefreshFailure: 'fail'`.
 * @example
 * const rates = postgresTable(ctx, { connectionString, query: 'SELECT code, rate FROM fx_rates', key: (r) => r.code, refresh: '5m' });
 * payments.pipe(keyBy((p) => p.currency), joinTable(rates)); // [code, [payment, rate row]]
 */
export function postgresTable<R = Record<string, unknown>, K extends Key = Key>(ctx: StreamingContext, options: PostgresTableOptions<R, K>): PostgresTable<K, R> {
  const what = 'postgresTable';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { connectionString | pool, query, key, refresh }.`);
  const { pool, connectionString, query, params = [], key, refresh, retries = 3, maxRows = 1_000_000, onRefreshFailure = 'fail' } = options;
  if ((pool === undefined) === (connectionString === undefined)) throw new TypeError(`${what}: give exactly one of pool (a pg.Pool) and connectionString.`);
  if (pool !== undefined && typeof (pool as Partial<PostgresPool>).connect !== 'function') throw new TypeError(`${what}: pool must be a pg.Pool (an object with connect()).`);
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) throw new TypeError(`${what}: connectionString must be a non-empty string such as 'postgres://127.0.0.1:5432/app'.`);
  if (typeof query !== 'string' || bareQuery(query) === '') throw new TypeError(`${what}: query must be a SELECT such as 'SELECT code, rate FROM fx_rates'.`);
  if (!Array.isArray(params)) throw new TypeError(`${what}: params must be an array of the query's parameters ($1, $2, ...).`);
  if (typeof key !== 'function') throw new TypeError(`${what}: key must be a function from a row to its join key, such as (row) => row.code.`);
  if (!Number.isSafeInteger(retries) || retries < 0) throw new TypeError(`${what}: retries must be a whole number of at least 0, got ${String(retries)}.`);
  if (!Number.isSafeInteger(maxRows) || maxRows < 1) throw new TypeError(`${what}: maxRows must be a positive whole number, got ${String(maxRows)}.`);
  if (onRefreshFailure !== 'fail' && onRefreshFailure !== 'keepLast') throw new TypeError(`${what}: onRefreshFailure must be 'fail' or 'keepLast', got ${JSON.stringify(onRefreshFailure)}.`);
  if (options.numPartitions !== undefined && (!Number.isSafeInteger(options.numPartitions) || options.numPartitions < 1)) throw new RangeError(`${what}: numPartitions must be a positive integer, got ${String(options.numPartitions)}.`);
  const refreshMs = refresh === 'never' ? undefined : parsePositiveDuration(refresh, `${what} refresh`);
  const source = new PostgresTableSource<R>({
    pool,
    connectionString,
    query: { where: connectionString === undefined ? "the pool's server" : whereIs(connectionString), query: bareQuery(query), params, maxRows, retries },
    refreshMs,
    onRefreshFailure,
  });
  // One partition: the source's records are the version's frozen rows, taken as they are.
  const input = ctx.source(source, { ...(options.name === undefined ? {} : { name: options.name }), numPartitions: 1 });
  return new PostgresTable<K, R>(input, source, key, options.numPartitions);
}
