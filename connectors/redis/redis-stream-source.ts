import { SluiceError, type BadRecord, type InputDStream, type InputOptions, type StreamingContext } from 'sluice';
import type { Offset, Source, SourceEnvironment, SourceRead } from 'sluice/extend';
import { openClient, whereIs, withRetries, type OwnedClient, type RedisCommands } from './redis-client.js';
import { BEFORE_FIRST, compareIds, idTime, isEntryId } from './stream-ids.js';

/** A record of a Redis stream: its entry id, when Redis added it, and its decoded value. */
export interface RedisStreamRecord<T> {
  /** The entry id (`<ms>-<seq>`). */
  readonly id: string;
  /** The ms part of the id: when Redis added the entry (for ids Redis generated), usable as event time. */
  readonly time: number;
  /** The entry's value field, decoded by `format`. */
  readonly value: T;
}

/** Options of {@link redisStreamSource}. */
export interface RedisStreamSourceOptions<T> extends InputOptions {
  /** Where to connect (`redis://127.0.0.1:6379`). */
  readonly url: string;
  /** The stream's key. */
  readonly key: string;
  /** The entry field holding the record (default `value`). An entry without it is a bad record. */
  readonly field?: string;
  /** How the field's text becomes a value: `'json'` (default), `'text'` (as is), or a function (throw for a bad record). */
  readonly format?: 'json' | 'text' | ((text: string) => T);
  /** How many times a read is tried again after a lost connection before the batch fails (default 3). */
  readonly retries?: number;
}

/** The most entries a batch takes when no `maxRecordsPerBatch` is set. */
const DEFAULT_BATCH_LIMIT = 100_000;

/**
 * Reads a Redis stream, replayably: offsets are `{ id, n }`, an entry id and how many entries the
 * stream had added up to it, and a batch is the entries after its start id up to its end id
 * (`XRANGE key (start end`), so a batch replayed after a crash reads the same entries. The stream
 * must keep them until the batch has committed: when entries after a batch's start were trimmed
 * (`XTRIM`, `MAXLEN`: the stream's oldest entry is past the next one to read, counted by Redis's
 * `entries-added`) or deleted (`XDEL`: its `max-deleted-entry-id` is past the start), the batch
 * fails with `SOURCE_OFFSET_UNAVAILABLE` naming the gap, rather than silently skipping them. A new
 * job starts at the oldest entry the stream holds. A lost connection is tried again
 * (`retries`), then fails the batch with `SOURCE_FAILED`; nothing is skipped, as the offsets did
 * not move.
 *
 * Memory: a batch holds at most `maxRecordsPerBatch` entries (100,000 without it); nothing is
 * read ahead.
 *
 * @throws TypeError for missing or malformed options.
 * @example
 * const payments = redisStreamSource(ctx, { url: 'redis://127.0.0.1:6379', key: 'payments', maxRecordsPerBatch: 10_000 })
 *   .pipe(map((r) => r.value));
 */
export function redisStreamSource<T = unknown>(ctx: StreamingContext, options: RedisStreamSourceOptions<T>): InputDStream<RedisStreamRecord<T>> {
  return ctx.source(new RedisStreamSource<T>(options), options);
}

/** The source behind {@link redisStreamSource} (exported for the connector's own tests). */
export class RedisStreamSource<T> implements Source<RedisStreamRecord<T>> {
  readonly kind = 'redis-stream';
  readonly replayable = true;
  readonly #url: string;
  readonly #key: string;
  readonly #field: string;
  readonly #decode: (text: string) => T;
  readonly #retries: number;
  #env: SourceEnvironment | undefined;
  #owned: OwnedClient | undefined;
  /** In a bounded run, the last entry id it reads: the stream's last when the run began. */
  #boundedEnd: string | undefined;
  /** Reads tried again since the last `read` reported them. */
  #retried = 0;
  /** The entries `latestOffset` fetched for the next batch, reused by its `read`. */
  #fetched: { readonly start: string; readonly end: string; readonly entries: readonly RawEntry[] } | undefined;

  constructor(options: RedisStreamSourceOptions<T>) {
    const what = 'redisStreamSource';
    if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { url, key }.`);
    const { url, key, field = 'value', format = 'json', retries = 3 } = options;
    if (typeof url !== 'string' || url === '') throw new TypeError(`${what}: url must be a non-empty string such as 'redis://127.0.0.1:6379'.`);
    if (typeof key !== 'string' || key === '') throw new TypeError(`${what}: key must be the stream's key, a non-empty string.`);
    if (typeof field !== 'string' || field === '') throw new TypeError(`${what}: field must be a non-empty string.`);
    if (format !== 'json' && format !== 'text' && typeof format !== 'function') throw new TypeError(`${what}: format must be 'json', 'text' or a function from the field's text to a value.`);
    if (!Number.isSafeInteger(retries) || retries < 0) throw new TypeError(`${what}: retries must be a whole number of at least 0.`);
    this.#url = url;
    this.#key = key;
    this.#field = field;
    this.#decode = format === 'json' ? (text) => JSON.parse(text) as T : format === 'text' ? (text) => text as T : format;
    this.#retries = retries;
  }

  async start(env: SourceEnvironment): Promise<void> {
    this.#env = env;
    try {
      this.#owned = await openClient(this.#url, () => undefined);
    } catch (error) {
      throw this.#failed('could not connect', error);
    }
  }

  /** A bounded run reads up to the stream's last entry when it began (`ctx.runToCompletion`). */
  async prepareForBoundedRun(): Promise<void> {
    const client = this.#client();
    let info: unknown;
    try {
      info = await client.sendCommand(['XINFO', 'STREAM', this.#key]).catch(noStream);
    } catch (error) {
      throw this.#failed(`could not read stream ${this.#key}`, error);
    }
    this.#boundedEnd = streamInfo(info).lastId;
  }

  initialOffset(): Offset {
    return { id: BEFORE_FIRST, n: 0 };
  }

  async latestOffset(start: Offset, maxRecords: number): Promise<Offset> {
    const from = this.#position(start);
    const count = Number.isFinite(maxRecords) ? maxRecords : DEFAULT_BATCH_LIMIT;
    const until = this.#boundedEnd ?? '+';
    if (until !== '+' && compareIds(until, from.id) <= 0) return start;
    const { entries, base } = await this.#range(from, until, count);
    if (entries.length === 0) return start;
    const end = (entries.at(-1) as RawEntry)[0];
    this.#fetched = { start: from.id, end, entries };
    return { id: end, n: base + entries.length };
  }

  async read(start: Offset, end: Offset): Promise<SourceRead<RedisStreamRecord<T>>> {
    const from = this.#position(start);
    const to = this.#position(end).id;
    const fetched = this.#fetched;
    this.#fetched = undefined;
    if (compareIds(from.id, to) >= 0) return { records: [] };
    const entries = fetched !== undefined && fetched.start === from.id && fetched.end === to ? fetched.entries : (await this.#range(from, to, undefined)).entries;
    const records: RedisStreamRecord<T>[] = [];
    const badRecords: BadRecord[] = [];
    for (const [id, fields] of entries) {
      const at = fields.indexOf(this.#field);
      const text = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
      if (text === undefined) {
        badRecords.push({ source: this.#name, raw: JSON.stringify(fields), reason: `the entry has no field '${this.#field}'`, location: `${this.#key} ${id}` });
        continue;
      }
      try {
        records.push({ id, time: idTime(id), value: this.#decode(text) });
      } catch (error) {
        badRecords.push({ source: this.#name, raw: text, reason: error instanceof Error ? error.message : String(error), location: `${this.#key} ${id}` });
      }
    }
    const retries = this.#retried;
    this.#retried = 0;
    return { records, ...(badRecords.length === 0 ? {} : { badRecords }), ...(retries === 0 ? {} : { retries }) };
  }

  async stop(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.close();
  }

  get #name(): string {
    return this.#env?.name ?? 'redisStreamSource';
  }

  #position(offset: Offset): Position {
    const { id, n } = (typeof offset === 'object' && offset !== null ? offset : {}) as { id?: unknown; n?: unknown };
    if (!isEntryId(id) || !Number.isSafeInteger(n)) throw new SluiceError('SOURCE_FAILED', `Source ${this.#name}: ${JSON.stringify(offset)} is not a Redis stream position ({ id, n }); was the checkpoint written by another source?`, { source: this.#name });
    return { id, n: n as number };
  }

  /**
   * The entries after `from` up to `to` (at most `count`), checked to be whole, and the position
   * (count of entries ever added) of `from`: an entry after `from` that was trimmed or deleted
   * makes the range unavailable. A new job (`from` the initial position) starts at the oldest
   * entry the stream holds.
   */
  async #range(from: Position, to: string, count: number | undefined): Promise<{ entries: RawEntry[]; base: number }> {
    const client = this.#client();
    const args = ['XRANGE', this.#key, `(${from.id}`, to, ...(count === undefined ? [] : ['COUNT', String(count)])];
    let reply: { entries: unknown; info: unknown };
    try {
      let retries: number;
      ({ value: reply, retries } = await withRetries(
        this.#retries,
        async () => {
          // Sent together: the range, then what the stream holds and has dropped by the time it was read.
          const [entries, info] = await Promise.all([client.sendCommand(args), client.sendCommand(['XINFO', 'STREAM', this.#key]).catch(noStream)]);
          return { entries, info };
        },
        (n, error) => this.#env?.logger.warn({ retry: n, err: error }, `redisStreamSource: connection to ${whereIs(this.#url)} lost, trying again`),
      ));
      this.#retried += retries;
    } catch (error) {
      throw this.#failed(`could not read stream ${this.#key}`, error);
    }
    const stream = streamInfo(reply.info);
    const fresh = from.id === BEFORE_FIRST;
    // Trimming drops the oldest entries: those present are the last `length` of all ever added.
    const firstPresent = stream.added - stream.length + 1;
    const gap = fresh ? undefined : stream.maxDeleted !== undefined && compareIds(stream.maxDeleted, from.id) > 0 ? `its max-deleted-entry-id is ${stream.maxDeleted}` : firstPresent > from.n + 1 ? `it holds the entries added from number ${firstPresent} on, and the next to read is number ${from.n + 1}` : undefined;
    if (gap !== undefined) {
      throw new SluiceError(
        'SOURCE_OFFSET_UNAVAILABLE',
        `Source ${this.#name}: entries of stream ${this.#key} after ${from.id} were deleted or trimmed (${gap}), so the batch from ${from.id} cannot be read whole. Keep the stream's entries until the job has read them (raise MAXLEN or trim less often), or start a new checkpoint directory to begin from what the stream holds now.`,
        { source: this.#name },
      );
    }
    return { entries: reply.entries as RawEntry[], base: fresh ? Math.max(0, firstPresent - 1) : from.n };
  }

  #client(): RedisCommands {
    if (this.#owned === undefined) throw new SluiceError('SOURCE_FAILED', `Source ${this.#name} is not started.`, { source: this.#name });
    return this.#owned.client;
  }

  #failed(what: string, error: unknown): SluiceError {
    return new SluiceError('SOURCE_FAILED', `Source ${this.#name} ${what} at Redis ${whereIs(this.#url)}: ${error instanceof Error ? error.message : String(error)}. Check that Redis is up and reachable; nothing was skipped.`, { source: this.#name, cause: error });
  }
}

/** Where a batch starts or ends: an entry id, and how many entries the stream had added up to it. */
interface Position {
  readonly id: string;
  readonly n: number;
}

/** An entry as XRANGE returns it: its id and its fields and values, flat. */
type RawEntry = readonly [id: string, fields: readonly string[]];

/** XINFO STREAM of a key that does not exist yet: as a stream with nothing deleted. */
function noStream(error: unknown): null {
  if (error instanceof Error && /no such key/i.test(error.message)) return null;
  throw error;
}

/**
 * What XINFO STREAM says of a stream: flat field-value pairs (RESP2), or an object of them (as
 * node-redis maps RESP3's map); `null` when the key does not exist yet.
 */
function streamInfo(info: unknown): { readonly length: number; readonly added: number; readonly maxDeleted: string | undefined; readonly lastId: string } {
  if (typeof info !== 'object' || info === null) return { length: 0, added: 0, maxDeleted: undefined, lastId: BEFORE_FIRST };
  const field = (name: string): unknown => {
    if (!Array.isArray(info)) return (info as Record<string, unknown>)[name];
    const at = info.indexOf(name);
    return at >= 0 ? info[at + 1] : undefined;
  };
  const deleted = field('max-deleted-entry-id');
  const last = field('last-generated-id');
  return { length: Number(field('length')), added: Number(field('entries-added')), maxDeleted: isEntryId(deleted) && deleted !== BEFORE_FIRST ? deleted : undefined, lastId: isEntryId(last) ? last : BEFORE_FIRST };
}
