import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager, type PubAck } from '@nats-io/jetstream';
import { headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { SluiceError, type DStream, type JobPartition, type Key } from 'sluice';
import { OutputOperation, type CheckpointIdentity } from 'sluice/extend';
import type { FencingToken } from './group/partition-group.js';
import { PartitionLostError } from './group/partition-lost-error.js';
import { checkPartitionCount, checkSubjectPrefix, partitionOf } from './partitions.js';
import { checkRetries, checkServers, NatsLink } from './nats-connection.js';
import { claimSinkName } from '../sink-names.js';

/** How {@link jetStreamSink} spreads records over a partitioned stream's subjects `<prefix>.<partition>`. */
export interface JetStreamPartitioning<T> {
  /** The subjects' prefix: partition `p` is `<prefix>.<p>`. */
  readonly prefix: string;
  /** How many partitions (fixed for the stream's life: a key's partition depends on it). */
  readonly partitions: number;
  /** The record's key: its partition is {@link partitionOf}(key, partitions). */
  readonly key: (record: T) => Key;
}

/** What {@link JetStreamSinkOptions.fence} checks: a {@link PartitionGroup} member, or anything that proves ownership alike. */
export interface PartitionFence {
  /** Resolves with the lease's token when this instance owns `partition`; rejects with {@link PartitionLostError} when not. */
  assertOwner(partition: number): Promise<FencingToken>;
}

/** Options of {@link jetStreamSink}: give `subject`, `subjectOf` or `partitionBy`. */
export interface JetStreamSinkOptions<T> {
  /** The NATS server(s): `'127.0.0.1:4222'` or several. */
  readonly servers: string | readonly string[];
  /** The subject every record is published on (the stream must capture it). */
  readonly subject?: string;
  /** The subject of each record (the stream must capture it). */
  readonly subjectOf?: (record: T) => string;
  /**
   * Publish on `<prefix>.<partition>`, the partition a stable hash of the record's key (the
   * same in every process and run: Sluice's key hash), over a fixed number of partitions.
   */
  readonly partitionBy?: JetStreamPartitioning<T>;
  /**
   * Fences every batch by partition ownership, so that an instance that lost a partition writes
   * nothing for it:
   * - `ctx.partition` (a job run as one partition of a group, `runJob(module, { group })`):
   *   before a batch is published, the context's partition's lease is checked on the server;
   *   a lost one fails the batch with `PARTITION_LOST` and nothing published. With a group, the
   *   message ids are `<name>:<group>.p<partition>:<batch id>:<index>`, the same on every
   *   instance that ever runs the partition, so a batch replayed by its next owner is absorbed
   *   by the stream's de-duplication. `undefined` (the whole job in one context) fences nothing.
   * - a {@link PartitionFence} (a {@link PartitionGroup} member), with `partitionBy`: ownership
   *   of each partition of the batch's records is proved before anything is published.
   *
   * Every message then carries its partition's lease epoch in the header `Sluice-Epoch` (with
   * `Sluice-Partition`), so a reader can drop a stale owner's late write (one with a smaller
   * epoch than a message before it).
   */
  readonly fence?: PartitionFence | JobPartition | undefined;
  /** How a record becomes a payload (default: a string or bytes as they are, anything else as JSON). */
  readonly encode?: (record: T) => string | Uint8Array;
  /**
   * The sink's stable name, part of every message id (default `jetStreamSink:<stream>`): keep it
   * when the program changes, and give two sinks to one stream names of their own.
   */
  readonly name?: string;
  /** How many times a batch's unacknowledged publishes are tried again after a lost connection or a timeout (default 3). */
  readonly retries?: number;
}

/** How many publishes are in flight at once. */
const WINDOW = 1_024;

/**
 * Publishes every record of every batch to the JetStream stream `stream`, exactly once within the
 * stream's duplicate window: each message carries the id `<name>:<checkpoint id>:<batch id>:<index>`
 * (its place in the batch), so the copies a batch replayed after a crash publishes are dropped by
 * the server's de-duplication, and the batch commits only once every publish is acknowledged.
 * A replay that comes later than the stream's `duplicate_window` (default 2 minutes) publishes
 * its messages again: size the window to cover a restart. Without a checkpoint there is no
 * replay, and ids are made unique per run.
 *
 * Every batch reports `recordsWritten` (messages the stream stored), `retries` and
 * `alreadyWritten` (every message of the batch was a duplicate: a replay) in its progress event.
 *
 * @param stream - the JetStream stream that must capture the subjects (publishes are refused otherwise).
 * @throws TypeError at definition for missing or malformed options.
 * @throws SluiceError `SINK_FAILED` (failing the batch) when the server refuses a publish or stays
 * unreachable after `retries`; a restart replays the batch and de-duplication drops what was stored.
 * @throws SluiceError `PARTITION_LOST` (failing the batch, nothing published) when `fence` finds a partition lost.
 * @example
 * alerts.pipe(jetStreamSink('ALERTS', { servers: '127.0.0.1:4222', subjectOf: (a) => `alerts.${a.card}` }));
 */
export function jetStreamSink<T>(stream: string, options: JetStreamSinkOptions<T>): (input: DStream<T>) => OutputOperation<T> {
  const what = 'jetStreamSink';
  if (typeof stream !== 'string' || stream === '' || /[\s.*>]/.test(stream)) throw new TypeError(`${what}: stream must be a JetStream stream name (no spaces, '.', '*' or '>'), got ${JSON.stringify(stream)}.`);
  if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { servers, subject | subjectOf }.`);
  const { subject, subjectOf, partitionBy, fence, encode = defaultEncode } = options;
  if ([subject, subjectOf, partitionBy].filter((o) => o !== undefined).length !== 1) throw new TypeError(`${what}: give exactly one of subject (a subject such as 'alerts.new'), subjectOf (record => subject) and partitionBy ({ prefix, partitions, key }).`);
  if (partitionBy !== undefined) checkPartitioning(what, partitionBy);
  if (fence !== undefined && typeof (fence as { assertOwner?: unknown }).assertOwner !== 'function') throw new TypeError(`${what}: fence must be ctx.partition or a PartitionGroup (with partitionBy).`);
  if (fence !== undefined && !isJobPartition(fence) && partitionBy === undefined) throw new TypeError(`${what}: a PartitionGroup fence needs partitionBy (the partition of each record); to fence by the partition a group runs, give fence: ctx.partition.`);
  if (subject !== undefined && (typeof subject !== 'string' || subject === '' || /[\s*>]/.test(subject))) throw new TypeError(`${what}: subject must be a subject without wildcards, got ${JSON.stringify(subject)}.`);
  if (subjectOf !== undefined && typeof subjectOf !== 'function') throw new TypeError(`${what}: subjectOf must be a function record => subject.`);
  if (typeof encode !== 'function') throw new TypeError(`${what}: encode must be a function record => string | Uint8Array.`);
  const name = options.name ?? `${what}:${stream}`;
  if (typeof name !== 'string' || name === '') throw new TypeError(`${what}: name must be a non-empty string.`);
  const link = new NatsLink(checkServers(what, options.servers), checkRetries(what, options.retries));
  const route = partitionBy === undefined ? undefined : router(partitionBy);
  const subjectFor = subjectOf ?? route?.subjectOf ?? (() => subject as string);
  return (input) => {
    claimSinkName(input, what, name, 'it is part of every message id, and equal ids are dropped as duplicates');
    let run: string | undefined;
    const output: OutputOperation<T> = new OutputOperation<T>(
      what,
      input,
      async (batch, { batchId }, bc) => {
        if (run === undefined) throw new SluiceError('SINK_FAILED', `${output.describe}: the sink was not started with its context.`, { operator: output.describe, batchId });
        const records = batch.partitions.flat();
        const prefix = `${name}:${run}:${batchId}:`;
        const before = link.takeRetries();
        const headersOf = fence === undefined || records.length === 0 ? undefined : isJobPartition(fence) ? await partitionHeaders(fence) : await fencedHeaders(fence, (route as NonNullable<typeof route>).partitionOf, records, output.describe, batchId);
        const acks = await link.call('SINK_FAILED', `${output.describe} could not publish batch ${batchId} to stream ${stream}`, (nc) => publishAll(nc, stream, records, subjectFor, encode, prefix, headersOf), { operator: output.describe, batchId });
        const written = acks.reduce((n, ack) => (ack.duplicate ? n : n + 1), 0);
        bc.reportOperator({ operator: output.describe, recordsWritten: written, retries: before + link.takeRetries(), alreadyWritten: records.length > 0 && written === 0 });
      },
      name,
    );
    input.graph.addCommitParticipant({
      name: output.describe,
      initialize: async (_restored, checkpoint: CheckpointIdentity | undefined) => {
        run = checkpoint?.id ?? `run-${randomUUID()}`;
        await link.call('SINK_FAILED', `${output.describe} could not find stream ${stream}`, async (nc) => {
          await (await jetstreamManager(nc, { checkAPI: false })).streams.info(stream);
        }, { operator: output.describe });
      },
      prepare: () => undefined,
      committed: () => undefined,
      // Pipelined commit: it writes only in its output, which waits for the commit of the batch before.
      handOff: () => undefined,
      aborted: () => undefined,
    });
    input.graph.services.onStop(() => link.close());
    return output;
  };
}

/**
 * Publishes `records` with ids `prefix + index`, at most {@link WINDOW} in flight, and returns
 * their acknowledgements in order. Publishing everything again after a failure is safe: the ids
 * make the server drop what it stored already.
 */
async function publishAll<T>(nc: NatsConnection, stream: string, records: readonly T[], subjectOf: (record: T) => string, encode: (record: T) => string | Uint8Array, prefix: string, headersOf?: (record: T) => MsgHdrs): Promise<PubAck[]> {
  const js = jetstream(nc, { checkAPI: false });
  const acks: PubAck[] = [];
  for (let from = 0; from < records.length; from += WINDOW) {
    const to = Math.min(records.length, from + WINDOW);
    const pending: Promise<PubAck>[] = new Array<Promise<PubAck>>(to - from);
    for (let i = from; i < to; i++) {
      const record = records[i] as T;
      pending[i - from] = js.publish(subjectOf(record), encode(record), { msgID: `${prefix}${i}`, expect: { streamName: stream }, ...(headersOf === undefined ? {} : { headers: headersOf(record) }) });
    }
    let settled: PubAck[];
    try {
      settled = await Promise.all(pending);
    } catch (error) {
      throw noStreamAnswered(error, stream, subjectOf(records[from] as T));
    }
    for (const ack of settled) acks.push(ack);
  }
  return acks;
}

function checkPartitioning<T>(what: string, partitionBy: JetStreamPartitioning<T>): void {
  if (typeof partitionBy !== 'object' || partitionBy === null) throw new TypeError(`${what}: partitionBy must be { prefix, partitions, key }.`);
  checkSubjectPrefix(what, partitionBy.prefix);
  checkPartitionCount(what, partitionBy.partitions);
  if (typeof partitionBy.key !== 'function') throw new TypeError(`${what}: partitionBy.key must be a function record => key (a string, number, bigint, boolean or an array of these).`);
}

/** A record's partition and subject under `partitionBy`; the subjects are made once. */
function router<T>(partitionBy: JetStreamPartitioning<T>): { partitionOf: (record: T) => number; subjectOf: (record: T) => string } {
  const { prefix, partitions, key } = partitionBy;
  const subjects = Array.from({ length: partitions }, (_, p) => `${prefix}.${p}`);
  const partitionOfRecord = (record: T): number => partitionOf(key(record), partitions);
  return { partitionOf: partitionOfRecord, subjectOf: (record) => subjects[partitionOfRecord(record)] as string };
}

/**
 * Proves ownership of every partition of the batch (all at once) and returns each record's
 * headers: its partition and the lease's epoch.
 *
 * @throws SluiceError `PARTITION_LOST` (the {@link PartitionLostError} as cause) when a partition is not this instance's.
 */
async function fencedHeaders<T>(fence: PartitionFence, partitionOfRecord: (record: T) => number, records: readonly T[], operator: string, batchId: number): Promise<(record: T) => MsgHdrs> {
  const partitions = new Set<number>();
  for (const record of records) partitions.add(partitionOfRecord(record));
  const byPartition = new Map<number, MsgHdrs>();
  try {
    await Promise.all([...partitions].map(async (p) => {
      const token = await fence.assertOwner(p);
      const h = headers();
      h.set('Sluice-Partition', String(p));
      h.set('Sluice-Epoch', String(token.epoch));
      byPartition.set(p, h);
    }));
  } catch (error) {
    if (!(error instanceof PartitionLostError)) throw error;
    throw new SluiceError('PARTITION_LOST', `${operator} refused to write batch ${batchId}: ${error.message}`, { operator, batchId, cause: error });
  }
  return (record) => byPartition.get(partitionOfRecord(record)) as MsgHdrs;
}

/**
 * Proves the context's partition is still this instance's and returns the headers of every
 * message: the partition and the lease's epoch.
 *
 * @throws SluiceError `PARTITION_LOST` when it is not.
 */
async function partitionHeaders(partition: JobPartition): Promise<() => MsgHdrs> {
  const epoch = await partition.assertOwner();
  const h = headers();
  h.set('Sluice-Partition', String(partition.index));
  h.set('Sluice-Epoch', String(epoch));
  return () => h;
}

function isJobPartition(fence: PartitionFence | JobPartition): fence is JobPartition {
  return typeof (fence as Partial<JobPartition>).index === 'number' && typeof (fence as Partial<JobPartition>).group === 'string';
}

/** A publish nobody answered (no stream captures the subject, or JetStream is down) said so; other errors as they are. */
function noStreamAnswered(error: unknown, stream: string, subject: string): unknown {
  const name = (error as { name?: unknown } | null)?.name;
  const text = error instanceof Error ? error.message : '';
  if (name !== 'NoRespondersError' && !/no responders|jetstream is not enabled/i.test(text)) return error;
  return Object.assign(new Error(`no JetStream stream answered a publish on subject '${subject}': check that stream ${stream} captures it (its subjects) and that JetStream is enabled`, { cause: error }), { name: 'NoRespondersError' });
}

function defaultEncode(record: unknown): string | Uint8Array {
  return typeof record === 'string' || record instanceof Uint8Array ? record : JSON.stringify(record);
}
