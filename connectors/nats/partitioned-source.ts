import type { BadRecord } from 'sluice';
import type { Offset, Source, SourceEnvironment, SourceRead } from 'sluice/extend';
import { JetStreamSource, type JetStreamRecord, type JetStreamSourceOptions } from './jetstream-source.js';
import { checkPartitionCount, checkSubjectPrefix } from './partitions.js';

/*
 * A source of some partitions of a partitioned stream (subjects `<prefix>.<p>`): one JetStream
 * source per partition, each reading its subject through consumers of its own (server 2.9 has no
 * consumer with several filters, and a consumer on `<prefix>.*` would deliver every partition's
 * messages to every instance). Its offset holds each partition's own stream sequence, so a
 * partition can move to another instance with its offset.
 */

/** Which partitions {@link jetStreamSource} reads with the `partitioned` option. */
export interface JetStreamPartitionSelection {
  /** The subjects' prefix: partition `p` is `<prefix>.<p>`. */
  readonly prefix: string;
  /** The partitions to read (each at least 0, no repeats). */
  readonly read: readonly number[];
}

/** An offset: each partition's last stream sequence read, by partition number. */
type PartitionOffsets = Readonly<Record<string, number>>;

function offsetsOf(offset: Offset): PartitionOffsets {
  if (typeof offset !== 'object' || offset === null || Array.isArray(offset) || !Object.values(offset).every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) {
    throw new TypeError(`JetStream source: offset ${JSON.stringify(offset)} is not one of a partitioned source's ({ partition: stream sequence }).`);
  }
  return offset as PartitionOffsets;
}

/**
 * Reads the partitions `read` of a partitioned stream, replayably: the offset is
 * `{ "<p>": last sequence read on <prefix>.<p> }`, and a batch reads, per partition, the messages
 * after its start up to its end; the batch's records come in stream-sequence order. A partition
 * missing from an offset (one read for the first time) starts at its stream's beginning; offsets
 * of partitions not read are kept as they are.
 */
export class PartitionedJetStreamSource<V> implements Source<JetStreamRecord<V>> {
  /** `'jetstream'`. */
  readonly kind = 'jetstream';
  /** `true`: each partition's sequence range gives the same messages while the stream keeps them. */
  readonly replayable = true;
  /** The stream read. */
  readonly stream: string;
  /** The partitions read, in order. */
  readonly partitions: readonly number[];
  readonly #sources: readonly JetStreamSource<V>[];
  /** Where the next batch's share starts, so that a small maxRecords reaches every partition in turn. */
  #turn = 0;

  /** @throws TypeError/RangeError for malformed options. */
  constructor(options: JetStreamSourceOptions<V> & { readonly partitioned: JetStreamPartitionSelection }) {
    const what = 'jetStreamSource';
    const { partitioned, subjects, durable, ...rest } = options;
    if (typeof partitioned !== 'object' || partitioned === null) throw new TypeError(`${what}: partitioned must be { prefix, read: [partitions] }.`);
    if (subjects !== undefined) throw new TypeError(`${what}: give subjects or partitioned, not both (partitioned reads <prefix>.<p> for each partition).`);
    if (durable !== undefined) throw new TypeError(`${what}: durable is not supported with partitioned.`);
    checkSubjectPrefix(what, partitioned.prefix);
    const read = partitioned.read as unknown;
    if (!Array.isArray(read) || read.length === 0 || !read.every((p) => Number.isSafeInteger(p) && (p as number) >= 0) || new Set(read).size !== read.length) {
      throw new RangeError(`${what}: partitioned.read must be a non-empty array of distinct partition numbers (0 or more), got ${JSON.stringify(read)}.`);
    }
    checkPartitionCount(what, Math.max(...(read as number[])) + 1);
    this.stream = options.stream;
    this.partitions = [...(read as number[])].sort((a, b) => a - b);
    this.#sources = this.partitions.map((p) => new JetStreamSource<V>({ ...rest, subjects: `${partitioned.prefix}.${p}` }));
  }

  /** Starts every partition's reader. */
  async start(env: SourceEnvironment): Promise<void> {
    await Promise.all(this.#sources.map((s, i) => s.start({ ...env, name: `${env.name}#${this.partitions[i] as number}` })));
  }

  /** Every partition's reader reads only what the stream holds now. */
  async prepareForBoundedRun(): Promise<void> {
    await Promise.all(this.#sources.map((s) => s.prepareForBoundedRun()));
  }

  /** Every partition before its first message. */
  initialOffset(): Offset {
    return Object.fromEntries(this.partitions.map((p) => [String(p), 0]));
  }

  /**
   * Each partition's end: at most `maxRecords` messages in all, shared evenly, and when there are
   * fewer than partitions, one each for the partitions whose turn it is.
   */
  async latestOffset(startOffset: Offset, maxRecords: number): Promise<Offset> {
    const start = offsetsOf(startOffset);
    const n = this.partitions.length;
    const share = Number.isFinite(maxRecords) ? Math.floor(maxRecords / n) : maxRecords;
    const turn = this.#turn;
    this.#turn = (turn + 1) % n;
    const ends = await Promise.all(this.#sources.map(async (source, i) => {
      const p = String(this.partitions[i]);
      const from = start[p] ?? 0;
      const quota = share >= 1 ? share : (i - turn + n) % n < maxRecords ? 1 : 0;
      return [p, quota === 0 ? from : ((await source.latestOffset(from, quota)) as number)] as const;
    }));
    return { ...start, ...Object.fromEntries(ends) };
  }

  /** Every partition's messages after `start` up to `end`, merged in stream-sequence order. */
  async read(startOffset: Offset, endOffset: Offset): Promise<SourceRead<JetStreamRecord<V>>> {
    const start = offsetsOf(startOffset);
    const end = offsetsOf(endOffset);
    const reads = await Promise.all(this.#sources.map(async (source, i): Promise<SourceRead<JetStreamRecord<V>>> => {
      const p = String(this.partitions[i]);
      const from = start[p] ?? 0;
      const to = end[p] ?? from;
      return to > from ? source.read(from, to) : { records: [] };
    }));
    const records = reads.flatMap((r) => r.records).sort((a, b) => a.seq - b.seq);
    const badRecords: BadRecord[] = reads.flatMap((r) => r.badRecords ?? []);
    const retries = reads.reduce((n, r) => n + (r.retries ?? 0), 0);
    return { records, badRecords, retries };
  }

  /** Stops every partition's reader. */
  async stop(): Promise<void> {
    await Promise.all(this.#sources.map((s) => s.stop()));
  }
}
