import { Batch, DStream, type Key, type Operator, type Pair } from 'sluice';
import type { BatchContext } from 'sluice/extend';
import type { PostgresTable } from './postgres-table.js';

/**
 * A keyed stream joined with a table, record by record: each record's key is looked up in the
 * index of the table's version in force for the batch (built once per version), so the table is
 * neither shuffled nor copied per batch: Flink's lookup join, Kafka Streams' stream-GlobalKTable
 * join. Output keeps the stream's partitions and order.
 */
class TableJoinDStream<K extends Key, V, R, W> extends DStream<Pair<K, [V, W]>> {
  readonly #table: PostgresTable<K, R>;
  readonly #outer: boolean;

  constructor(kind: string, stream: DStream<Pair<K, V>>, table: PostgresTable<K, R>, outer: boolean) {
    if (table.graph !== stream.graph) throw new TypeError(`${kind}: the table belongs to another streaming context; join only a table of the stream's context.`);
    super({ kind, graph: stream.graph, parents: [stream, table] });
    this.#table = table;
    this.#outer = outer;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<Pair<K, [V, W]>> | undefined> {
    const input = (await (this.parents[0] as DStream<Pair<K, V>>).getOrCompute(bc));
    if (input === undefined) return undefined;
    const { index } = await this.#table.snapshot(bc);
    const outer = this.#outer;
    const partitions = input.partitions.map((partition) => {
      const out: Pair<K, [V, W]>[] = [];
      for (let i = 0; i < partition.length; i++) {
        const record = partition[i] as Pair<K, V>;
        const key = record[0];
        const slot = index.slotOf(key);
        if (slot >= 0) {
          const rows = index.valueAt(slot);
          for (let r = 0; r < rows.length; r++) out.push([key, [record[1], rows[r] as unknown as W]]);
        } else if (outer) {
          out.push([key, [record[1], undefined as W]]);
        }
      }
      return out;
    });
    return new Batch(partitions);
  }
}

/**
 * Inner stream-table join: each `[key, value]` of the stream with every row of `table` with that
 * key, `[key, [value, row]]`, against the version of the table in force for the batch; a record
 * whose key the table lacks is dropped. The output keeps the stream's partitions and order.
 *
 * @throws TypeError when the table belongs to another context.
 * @example payments.pipe(keyBy((p) => p.currency), joinTable(rates)) // [code, [payment, rate row]]
 */
export function joinTable<K extends Key, V, R>(table: PostgresTable<K, R>): Operator<Pair<K, V>, Pair<K, [V, R]>> {
  return (stream) => new TableJoinDStream<K, V, R, R>('joinTable', stream, table, false);
}

/**
 * Left outer stream-table join: like {@link joinTable}, and a record whose key the table lacks is
 * paired with `undefined`.
 *
 * @throws TypeError when the table belongs to another context.
 * @example payments.pipe(keyBy((p) => p.currency), leftJoinTable(rates)) // [code, [payment, rate row | undefined]]
 */
export function leftJoinTable<K extends Key, V, R>(table: PostgresTable<K, R>): Operator<Pair<K, V>, Pair<K, [V, R | undefined]>> {
  return (stream) => new TableJoinDStream<K, V, R, R | undefined>('leftJoinTable', stream, table, true);
}
