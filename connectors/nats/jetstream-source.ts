import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { SluiceError, type BadRecord, type InputDStream, type InputOptions, type StreamingContext } from 'sluice';
import type { Offset, Source, SourceEnvironment, SourceRead } from 'sluice/extend';
import { DurableAcks } from './durable-acks.js';
import { decoderOf, rawText, type MessageDecoder, type MessageFormat } from './message-format.js';
import { checkRetries, checkServers, messageOf, NatsLink } from './nats-connection.js';
import { PartitionedJetStreamSource, type JetStreamPartitionSelection } from './partitioned-source.js';
import { PullCursor, type StoredMessage } from './pull-cursor.js';
import { readMessages, streamState } from './stream-reader.js';

/** A record of {@link jetStreamSource}: the message's subject, stream sequence, broker time and decoded value. */
export interface JetStreamRecord<V> {
  /** The subject it was published on. */
  readonly subject: string;
  /** Its sequence number in the stream (the source's offsets). */
  readonly seq: number;
  /** When the server stored it, in ms since the epoch: the event time to use when the publisher's own clock is not in the payload. */
  readonly time: number;
  /** The decoded payload. */
  readonly value: V;
}

/** Options of {@link jetStreamSource} and {@link JetStreamSource}. */
export interface JetStreamSourceOptions<V> extends InputOptions {
  /** The NATS server(s): `'127.0.0.1:4222'` or several. */
  readonly servers: string | readonly string[];
  /** The JetStream stream to read. */
  readonly stream: string;
  /** Only the messages on these subjects (wildcards allowed; default: every subject of the stream). */
  readonly subjects?: string | readonly string[];
  /**
   * A durable consumer name: messages up to a batch's end are acknowledged on it once the batch
   * commits (an Interest stream then removes them). Reading never depends on it.
   */
  readonly durable?: string;
  /** How a payload becomes a value: `'json'`, `'text'` (UTF-8), `'bytes'` or `(data, subject) => value`. */
  readonly format: MessageFormat<V>;
  /** How many times a call is tried again, on a fresh connection, after a lost connection or a timeout (default 3). */
  readonly retries?: number;
  /**
   * Read only these partitions of a partitioned stream (subjects `<prefix>.<p>`, as
   * {@link jetStreamSink}'s `partitionBy` writes them), each through a consumer of its own, with
   * an offset per partition ({@link PartitionedJetStreamSource}). Not with `subjects` or `durable`.
   */
  readonly partitioned?: JetStreamPartitionSelection;
}

/** The source's offset as a sequence number. */
function seqOf(offset: Offset): number {
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
    throw new TypeError(`JetStream source: offset ${JSON.stringify(offset)} is not one of this source's (a stream sequence number).`);
  }
  return offset;
}

/**
 * A replayable source of a JetStream stream's messages: the offsets are stream sequence numbers,
 * a batch reads exactly the messages with sequence in `(start, end]` on the filtered subjects, so
 * a batch replayed after a crash reads what it read before. See {@link jetStreamSource}.
 */
export class JetStreamSource<V> implements Source<JetStreamRecord<V>> {
  /** `'jetstream'`. */
  readonly kind = 'jetstream';
  /** `true`: the same sequence range gives the same messages while the stream keeps them. */
  readonly replayable = true;
  /** The stream read. */
  readonly stream: string;
  readonly #subjects: readonly string[];
  readonly #decode: MessageDecoder<V>;
  readonly #link: NatsLink;
  readonly #acks: DurableAcks | undefined;
  #name = 'jetstream';
  #logger: Logger | undefined;
  /** In a bounded run, the last sequence it reads: the stream's last when the run began. */
  #boundedLast: number | undefined;
  /** Where the next batch's messages are being read ahead, when the last batch ended where it left off. */
  #cursor: PullCursor | undefined;
  /** The messages `latestOffset` took for the range it returned. */
  #ahead: { readonly start: number; readonly end: number; readonly messages: StoredMessage[] } | undefined;

  /** @throws TypeError for missing or malformed options. */
  constructor(options: JetStreamSourceOptions<V>) {
    const what = 'jetStreamSource';
    if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { servers, stream, format }.`);
    if (typeof options.stream !== 'string' || options.stream === '' || /[\s.*>]/.test(options.stream)) throw new TypeError(`${what}: stream must be a JetStream stream name (no spaces, '.', '*' or '>'), got ${JSON.stringify(options.stream)}.`);
    const subjects = options.subjects === undefined ? [] : typeof options.subjects === 'string' ? [options.subjects] : options.subjects;
    if (!Array.isArray(subjects) || !subjects.every((s) => typeof s === 'string' && s !== '' && !/\s/.test(s))) throw new TypeError(`${what}: subjects must be a subject or an array of subjects such as 'orders.>', got ${JSON.stringify(options.subjects)}.`);
    if (options.partitioned !== undefined) throw new TypeError(`${what}: a JetStreamSource reads no partitions; use jetStreamSource(ctx, { partitioned }) or a PartitionedJetStreamSource.`);
    if (options.durable !== undefined && (typeof options.durable !== 'string' || !/^[A-Za-z0-9_-]+$/.test(options.durable))) throw new TypeError(`${what}: durable must be a consumer name of letters, digits, '-' and '_', got ${JSON.stringify(options.durable)}.`);
    this.stream = options.stream;
    this.#subjects = [...(subjects as readonly string[])];
    this.#decode = decoderOf<V>(what, options.format);
    this.#link = new NatsLink(checkServers(what, options.servers), checkRetries(what, options.retries), (error, attempt, delayMs) => {
      this.#logger?.warn({ err: error, attempt, delayMs, stream: this.stream, servers: this.#link.where }, 'a NATS call failed; trying again on a fresh connection');
    });
    this.#acks = options.durable === undefined ? undefined : new DurableAcks(this.stream, options.durable, this.#subjects);
  }

  /** Connects, checks the stream exists (and creates the durable consumer, if any). */
  async start(env: SourceEnvironment): Promise<void> {
    this.#name = env.name;
    this.#logger = env.logger;
    const state = await this.#call('start', (nc) => streamState(nc, this.stream));
    if (state.retention === 'workqueue' && this.#acks !== undefined) {
      throw new SluiceError('SOURCE_FAILED', `Source ${this.#name}: stream ${this.stream} has WorkQueue retention, which allows one consumer and removes a message when it is acknowledged; the source reads through consumers of its own. Use a Limits or Interest stream.`, { source: this.#name });
    }
    const acks = this.#acks;
    if (acks !== undefined) await this.#call('create its durable consumer', (nc) => acks.ensure(nc));
  }

  /** A bounded run reads up to the stream's last message when it began (`ctx.runToCompletion`). */
  async prepareForBoundedRun(): Promise<void> {
    // Its pending counts may predate the run's end: the run reads through a consumer of its own.
    await this.#dropCursor();
    const { last } = await this.#call('find where a bounded run ends', (nc) => streamState(nc, this.stream));
    this.#boundedLast = last;
  }

  /** `0`: before the stream's first message. */
  initialOffset(): Offset {
    return 0;
  }

  /**
   * The sequence of the last matching message at most `maxRecords` matching messages past
   * `start`, or `start` when there is none; the messages read are kept for `read`. They come from
   * the consumer kept since the last batch when that batch ended at `start` (read ahead while it
   * ran), else from a fresh consumer at `start + 1`.
   */
  async latestOffset(startOffset: Offset, maxRecords: number): Promise<Offset> {
    const start = seqOf(startOffset);
    const messages = await this.#call('report its latest offset', async (nc) => {
      const state = await streamState(nc, this.stream);
      const last = Math.min(state.last, this.#boundedLast ?? Number.POSITIVE_INFINITY);
      if (last <= start) return [];
      this.#checkKept(start, state.first);
      const kept = this.#cursor;
      if (kept !== undefined && kept.nc === nc && kept.position === start && kept.usable(performance.now())) {
        try {
          return await kept.take(maxRecords, last);
        } catch {
          // It failed before handing out a message: a fresh consumer at the same place below.
        }
      }
      await this.#dropCursor();
      const cursor = await PullCursor.open(nc, await jetstreamManager(nc, { checkAPI: false }), { stream: this.stream, subjects: this.#subjects, from: start + 1 });
      this.#cursor = cursor;
      try {
        return await cursor.take(maxRecords, last);
      } catch (error) {
        await this.#dropCursor();
        throw error;
      }
    });
    const end = messages.at(-1)?.seq ?? start;
    this.#ahead = end === start ? undefined : { start, end, messages };
    return end;
  }

  /** The messages with sequence in `(start, end]` on the subjects, decoded; undecodable ones as bad records. */
  async read(startOffset: Offset, endOffset: Offset): Promise<SourceRead<JetStreamRecord<V>>> {
    const start = seqOf(startOffset);
    const end = seqOf(endOffset);
    const ahead = this.#ahead;
    this.#ahead = undefined;
    const messages =
      ahead !== undefined && ahead.start === start && ahead.end === end
        ? ahead.messages
        : await this.#call('read its records', async (nc) => {
            const { first } = await streamState(nc, this.stream);
            this.#checkKept(start, first);
            return readMessages(nc, { stream: this.stream, subjects: this.#subjects, from: start + 1, until: end, max: Number.POSITIVE_INFINITY });
          });
    return this.#decoded(messages);
  }

  /** Acknowledges the messages up to `end` on the durable consumer, if any (a failure is logged: the batch is committed all the same). */
  async commit(endOffset: Offset): Promise<void> {
    const acks = this.#acks;
    if (acks === undefined) return;
    const end = seqOf(endOffset);
    const acked = await this.#call('acknowledge committed messages', (nc) => acks.ackUpTo(nc, end));
    if (!acked) this.#logger?.debug({ end }, 'the durable consumer has not delivered the committed messages again yet; a later commit acknowledges them');
  }

  /** Closes the connection. */
  async stop(): Promise<void> {
    this.#ahead = undefined;
    await this.#dropCursor();
    await this.#link.close();
  }

  async #dropCursor(): Promise<void> {
    const cursor = this.#cursor;
    this.#cursor = undefined;
    await cursor?.close();
  }

  #decoded(messages: readonly StoredMessage[]): SourceRead<JetStreamRecord<V>> & { retries: number } {
    const records: JetStreamRecord<V>[] = [];
    const badRecords: BadRecord[] = [];
    for (const m of messages) {
      try {
        records.push({ subject: m.subject, seq: m.seq, time: m.time, value: this.#decode(m.data, m.subject) });
      } catch (error) {
        badRecords.push({ source: this.#name, raw: rawText(m.data), reason: messageOf(error), location: `${this.stream}#${m.seq} (${m.subject})` });
      }
    }
    return { records, badRecords, retries: this.#link.takeRetries() };
  }

  /**
   * @throws SluiceError `SOURCE_OFFSET_UNAVAILABLE` when messages after `start` were removed from
   * the stream (its first sequence is past `start + 1`) once the job has read from it.
   */
  #checkKept(start: number, first: number): void {
    if (start === 0 || first <= start + 1) return;
    throw new SluiceError(
      'SOURCE_OFFSET_UNAVAILABLE',
      `Source ${this.#name}: stream ${this.stream} no longer holds sequences ${start + 1} to ${first - 1} (its first message is now ${first}: removed by its limits, a purge or acknowledgements), which the job has not read or must read again. Nothing was skipped. Raise the stream's limits (max_age, max_msgs, max_bytes) so it keeps messages until they are committed, or start a new checkpoint directory to go on from the stream's first message.`,
      { source: this.#name },
    );
  }

  #call<R>(what: string, attempt: (nc: NatsConnection) => Promise<R>): Promise<R> {
    return this.#link.call('SOURCE_FAILED', `Source ${this.#name} could not ${what} from stream ${this.stream}`, attempt, { source: this.#name });
  }
}

/**
 * Registers a JetStream stream as a source of `ctx` (as `ctx.source(...)` does) and returns its
 * stream of {@link JetStreamRecord}s. Exactly once: offsets are stream sequence numbers, logged in
 * the batch plan, and a batch reads exactly the messages of its range, so after a crash the
 * replayed batches read the same messages (docs/connectors.md).
 *
 * @throws TypeError at definition for missing or malformed options.
 * @example
 * const orders = jetStreamSource<Order>(ctx, { servers: '127.0.0.1:4222', stream: 'ORDERS', subjects: 'orders.>', format: 'json', maxRecordsPerBatch: 10_000 });
 * orders.pipe(map((r) => r.value), ...);
 */
export function jetStreamSource<V = unknown>(ctx: StreamingContext, options: JetStreamSourceOptions<V>): InputDStream<JetStreamRecord<V>> {
  const { partitioned } = options;
  const source = partitioned === undefined ? new JetStreamSource<V>(options) : new PartitionedJetStreamSource<V>({ ...options, partitioned });
  const { name, maxRecordsPerBatch, badRecords, numPartitions } = options;
  return ctx.source(source, {
    name: name ?? `jetstream:${source.stream}`,
    ...(maxRecordsPerBatch === undefined ? {} : { maxRecordsPerBatch }),
    ...(badRecords === undefined ? {} : { badRecords }),
    ...(numPartitions === undefined ? {} : { numPartitions }),
  });
}
