import type { InputDStream, StreamingContext } from 'sluice';
import { jetStreamSource, type JetStreamRecord, type JetStreamSourceOptions } from '../jetstream-source.js';
import { checkPartitionCount } from '../partitions.js';

/** Options of {@link groupSource}: a JetStream source's, with the partitioned stream's layout. */
export interface GroupSourceOptions<V> extends Omit<JetStreamSourceOptions<V>, 'subjects' | 'durable' | 'partitioned'> {
  /** The subjects' prefix: partition `p` is `<prefix>.<p>`. */
  readonly prefix: string;
  /** How many partitions the stream has (the group's). */
  readonly partitions: number;
}

/**
 * The partitioned input of a job that runs in a group: the partition the context runs
 * (`ctx.partition`, set by `runJob(module, { group })`), or every partition when the context runs
 * the whole job (no group), so one job module serves both. Offsets are per partition, so a
 * partition's offset moves with it to another instance.
 *
 * @throws TypeError/RangeError for malformed options, or when `partitions` is not the group's.
 * @example
 * export default defineJob({ batchInterval: '1s', checkpoint: levelCheckpoint('./ckpt') }, (ctx) => {
 *   groupSource<Order>(ctx, { servers, stream: 'ORDERS', prefix: 'orders', partitions: 12, format: 'json' })
 *     .pipe(mapToPair((r) => [r.value.card, r.value.amount]), reduceByKey((a, b) => a + b), ...);
 * });
 */
export function groupSource<V = unknown>(ctx: StreamingContext, options: GroupSourceOptions<V>): InputDStream<JetStreamRecord<V>> {
  const what = 'groupSource';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { servers, stream, prefix, partitions, format }.`);
  const { prefix, partitions, ...rest } = options;
  checkPartitionCount(what, partitions);
  const own = ctx.partition;
  if (own !== undefined && own.count !== partitions) throw new RangeError(`${what}: the stream has ${partitions} partitions, the group ${own.count}: give the group the stream's number of partitions.`);
  const read = own === undefined ? Array.from({ length: partitions }, (_, p) => p) : [own.index];
  return jetStreamSource<V>(ctx, { ...rest, partitioned: { prefix, read } });
}
