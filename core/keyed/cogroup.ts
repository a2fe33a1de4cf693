import type { DStream, Operator } from '../dstream.js';
import type { Key, Pair } from '../key.js';
import { asStream, type StaticDataset } from '../operators/constant.js';
import { DerivedDStream } from '../operators/derived.js';
import type { KeyedOptions } from './combine-by-key.js';
import { checkNumPartitions } from './partitioner.js';
import { cogroupShuffle } from './shuffle.js';

/**
 * For every key present in either input in a batch, the values of that key on each side:
 * `[key, [leftValues, rightValues]]`. `other` is a stream of the same context or a static dataset.
 *
 * **Memory.** Per batch only: both sides' records of the batch, grouped by key; nothing is held
 * between batches.
 *
 * @throws RangeError when `options.numPartitions` is not a positive integer.
 * @throws TypeError when `other` is a stream of another context or with another slide.
 * @example orders.pipe(cogroup(payments))
 */
export function cogroup<K extends Key, V, W>(
  other: DStream<Pair<K, W>> | StaticDataset<Pair<K, W>>,
  options: KeyedOptions = {},
): Operator<Pair<K, V>, Pair<K, [V[], W[]]>> {
  return cogroupWith('cogroup', other, options, (key, lefts, rights, emit) => {
    emit([key, [lefts, rights]]);
  });
}

/** Receives a key's values on both sides and emits the operator's records for it. */
export type CogroupEmitter<K extends Key, V, W, R> = (
  key: K,
  lefts: V[],
  rights: W[],
  emit: (record: R) => void,
) => void;

/** The shared body of cogroup and the joins. */
export function cogroupWith<K extends Key, V, W, R>(
  kind: string,
  other: DStream<Pair<K, W>> | StaticDataset<Pair<K, W>>,
  options: KeyedOptions,
  emitFor: CogroupEmitter<K, V, W, R>,
): Operator<Pair<K, V>, R> {
  const numPartitions = checkNumPartitions(kind, options.numPartitions);
  return (stream: DStream<Pair<K, V>>) => {
    const right = asStream(stream, other);
    const node: DerivedDStream<R> = new DerivedDStream<R>(
      kind,
      [stream, right],
      async (inputs, bc) => {
        const grouped = await shuffle.run(bc, inputs as never, numPartitions ?? bc.defaultParallelism);
        return grouped.flatMap(([key, [lefts, rights]]) => {
          const out: R[] = [];
          emitFor(key, lefts as V[], rights as W[], (record) => out.push(record));
          return out;
        });
      },
      options.name,
    );
    const shuffle = cogroupShuffle<K>(node);
    return node;
  };
}
