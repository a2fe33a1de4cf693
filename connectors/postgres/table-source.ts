import pg from 'pg';
import { SluiceError, type Time } from 'sluice';
import type { Offset, Source, SourceEnvironment, SourceRead, WriteAheadLog } from 'sluice/extend';
import type { PostgresPool } from './pg-client.js';
import { loadRows, type TableQuery } from './table-load.js';
import { offsetOf, parseOffset, type VersionRef } from './table-offset.js';
import { decodeMarker, decodeVersion, encodeMarker, encodeRows, queryId, type VersionMarker } from './table-rows.js';

/** What a table does when a refresh fails after its retries. */
export type RefreshFailure = 'fail' | 'keepLast';

/** One version of the table: its rows (frozen, shared by every batch it is in force for) and where the log keeps them. */
export interface TableVersion<R> {
  readonly version: number;
  readonly rows: readonly R[];
  readonly hash: string;
  /** The log entries `[from, to)` of its chunks and trailer, with a checkpoint. */
  readonly log: readonly [number, number] | undefined;
}

/** The checked settings of a table source. */
export interface TableSourceSettings {
  readonly pool: PostgresPool | undefined;
  readonly connectionString: string | undefined;
  readonly query: Omit<TableQuery, 'source'>;
  /** Milliseconds between refreshes, or `undefined` for none. */
  readonly refreshMs: number | undefined;
  readonly onRefreshFailure: RefreshFailure;
}

/** Loads of an unchanged version after which its rows are logged again, so that the log of a table that never changes stays bounded. */
const MARKERS_PER_COPY = 64;

/**
 * The source behind `postgresTable`: its offsets are versions of the table (`{ version, rows,
 * hash, log? }`), its records for a batch where the version changes are the new version's rows.
 *
 * Schedule: the table is loaded at the first start, and again in the plan of the first batch of
 * each refresh epoch: epoch `e` holds the batch times `origin + e * refresh` up to the next,
 * `origin` being the first batch's time. A load whose rows differ (by hash) from the version in
 * force makes a new version. With a checkpoint, each load is appended to the source's
 * write-ahead log before the plan that names its version is logged: the new version's rows, and a
 * marker of the version in force and the epoch. A restart goes on from the last marker without
 * querying PostgreSQL (unless the table is never refreshed, or its query changed), so batches
 * keep the version a run without the restart would have had, and a replayed batch reads its
 * version from memory or from the log.
 */
export class PostgresTableSource<R> implements Source<R> {
  readonly kind = 'postgresTable';
  readonly #settings: TableSourceSettings;
  /** Versions whose rows are in memory. */
  readonly #versions = new Map<number, TableVersion<R>>();
  #env: SourceEnvironment | undefined;
  #log: WriteAheadLog | undefined;
  #pool: PostgresPool | undefined;
  #owned: pg.Pool | undefined;
  /** The version new batches get. */
  #current: VersionRef | undefined;
  #origin: number | null = null;
  #epoch = 0;
  /** Markers logged since the current version's rows were. */
  #markers = 0;
  #retries = 0;
  #frozen = false;

  readonly #queryId: string;

  constructor(settings: TableSourceSettings) {
    this.#settings = settings;
    this.#queryId = queryId(settings.query.query, settings.query.params);
  }

  /** Replayable when the context is checkpointed (versions are then kept in its write-ahead log). */
  get replayable(): boolean {
    return this.#log !== undefined;
  }

  /**
   * Connects, and loads the table, unless the write-ahead log says which version is in force (for
   * this query, with a refresh: a table never refreshed is loaded at every start).
   *
   * @throws SluiceError `SOURCE_FAILED` when the first load fails after its retries.
   */
  async start(env: SourceEnvironment): Promise<void> {
    if (this.#env !== undefined) throw new TypeError(`postgresTable ${env.name} was already started; create one table per context.`);
    this.#env = env;
    this.#log = env.writeAheadLog;
    this.#pool = this.#settings.pool;
    if (this.#pool === undefined) {
      this.#owned = new pg.Pool({ connectionString: this.#settings.connectionString, max: 1 });
      this.#owned.on('error', () => undefined); // an idle connection lost: the next load reconnects
      this.#pool = this.#owned;
    }
    try {
      const last = await this.#lastMarker();
      if (last !== undefined) {
        this.#current = { version: last.version, rows: last.rows, hash: last.hash, log: last.log };
        this.#origin = last.origin;
        this.#epoch = last.epoch;
      }
      // A restart keeps the logged version (and refreshes on schedule), unless the table is never
      // refreshed or its query changed: then it loads the table now.
      if (last === undefined || this.#settings.refreshMs === undefined || last.query !== this.#queryId) await this.#load(this.#epoch);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  initialOffset(): Offset {
    return null;
  }

  /** The version in force for the batch at `batchTime`: loaded again first when the batch opens a refresh epoch. */
  async latestOffset(_start: Offset, _maxRecords: number, batchTime?: Time): Promise<Offset> {
    const env = this.#started();
    const now = batchTime ?? env.clock.now();
    if (this.#origin === null) {
      this.#origin = now;
      await this.#mark(undefined);
    }
    const every = this.#settings.refreshMs;
    const epoch = every === undefined || this.#frozen ? this.#epoch : Math.floor((now - this.#origin) / every);
    if (epoch > this.#epoch) await this.#refresh(env, epoch);
    return offsetOf(this.#current as VersionRef);
  }

  async read(_start: Offset, end: Offset): Promise<SourceRead<R>> {
    const version = await this.versionAt(end);
    const retries = this.#retries;
    this.#retries = 0;
    return { records: version.rows, retries };
  }

  /**
   * The version an offset names: from memory, or (after a restart) from the write-ahead log.
   *
   * @throws SluiceError `SOURCE_OFFSET_UNAVAILABLE` naming the version when neither holds it intact.
   */
  async versionAt(offset: Offset): Promise<TableVersion<R>> {
    const name = this.#env?.name ?? 'postgresTable';
    const wanted = parseOffset(offset, name);
    const kept = this.#versions.get(wanted.version);
    if (kept !== undefined && kept.hash === wanted.hash) return kept;
    const unavailable = (why: string, cause?: unknown): SluiceError =>
      new SluiceError('SOURCE_OFFSET_UNAVAILABLE', `Source ${name}: version ${wanted.version} of the table (${wanted.rows} rows, hash ${wanted.hash.slice(0, 12)}), which a logged batch joins against, ${why}. Restore the checkpoint directory from a copy, or start a new checkpoint directory.`, { source: name, cause });
    const log = this.#log;
    if (log === undefined || wanted.log === undefined) throw unavailable('is not in memory and the context has no write-ahead log for it');
    const [from, to] = wanted.log;
    if (from < (await log.first())) throw unavailable(`is no longer in the write-ahead log (its entries ${from} to ${to - 1} were deleted)`);
    let rows: unknown[];
    try {
      rows = decodeVersion(await log.read(from, to), wanted);
    } catch (error) {
      throw unavailable(`is damaged in the write-ahead log (entries ${from} to ${to - 1}): ${(error as Error).message}`, error);
    }
    const version: TableVersion<R> = { version: wanted.version, rows: Object.freeze(rows as R[]), hash: wanted.hash, log: wanted.log };
    this.#versions.set(version.version, version);
    return version;
  }

  /** A batch with version `end` committed: older versions are forgotten, and their log entries released. */
  commit(end: Offset): void {
    if (end === null) return;
    const committed = parseOffset(end, this.#env?.name ?? 'postgresTable');
    for (const version of this.#versions.keys()) {
      if (version < committed.version && version !== this.#current?.version) this.#versions.delete(version);
    }
    if (committed.log !== undefined) this.#log?.release(committed.log[0]);
  }

  /** A bounded run joins against the version in force when it starts: no refresh. */
  prepareForBoundedRun(): void {
    this.#frozen = true;
  }

  /** A graceful stop drains with the version in force: no refresh keeps it going. */
  stopReceiving(): void {
    this.#frozen = true;
  }

  /** Ends the pool the source opened (a pool given in the options is the user's). */
  async stop(): Promise<void> {
    const owned = this.#owned;
    this.#owned = undefined;
    await owned?.end();
  }

  /** Loads the table for `epoch`; a failure fails the batch or keeps the version in force (`onRefreshFailure`). */
  async #refresh(env: SourceEnvironment, epoch: number): Promise<void> {
    try {
      await this.#load(epoch);
    } catch (error) {
      if (this.#settings.onRefreshFailure === 'fail') throw error;
      this.#epoch = epoch;
      env.logger.warn({ err: error, version: this.#current?.version, epoch }, `table refresh failed; batches go on joining against version ${this.#current?.version} until the next refresh (onRefreshFailure: 'keepLast')`);
    }
  }

  /**
   * Queries the table for `epoch`: the rows become a new version when their hash differs from
   * the version in force's; either way the load is logged (new rows, then the marker) before
   * this resolves.
   */
  async #load(epoch: number): Promise<void> {
    const env = this.#started();
    const loaded = await loadRows(this.#pool as PostgresPool, { ...this.#settings.query, source: env.name });
    this.#retries += loaded.retries;
    const rows = Object.freeze(loaded.rows as R[]);
    const encoded = encodeRows(rows);
    const current = this.#current;
    const same = current !== undefined && current.hash === encoded.hash;
    const version = same ? current.version : (current?.version ?? 0) + 1;
    const copy = !same || (this.#log !== undefined && this.#markers >= MARKERS_PER_COPY);
    const from = copy ? await this.#log?.end() : undefined;
    const log: VersionRef['log'] = from === undefined ? current?.log : [from, from + encoded.chunks.length];
    const ref: VersionRef = { version, rows: rows.length, hash: encoded.hash, log };
    this.#current = ref;
    this.#epoch = epoch;
    await this.#mark(copy ? encoded.chunks : undefined);
    // An unchanged version keeps its object (and the batch and index built for it).
    if (this.#versions.get(version)?.hash !== encoded.hash) this.#versions.set(version, { ...ref, rows });
    if (!same) env.logger.info({ version, rows: rows.length, epoch }, 'table version loaded');
  }

  /**
   * Appends the marker of the current version and schedule, after the version's rows `chunks`
   * when it is (again) logged, in one write.
   */
  async #mark(chunks: readonly string[] | undefined): Promise<void> {
    const log = this.#log;
    const current = this.#current as VersionRef;
    if (log === undefined || current.log === undefined) return;
    await log.append([...(chunks ?? []), encodeMarker({ version: current.version, rows: current.rows, hash: current.hash, log: current.log, origin: this.#origin, epoch: this.#epoch, query: this.#queryId })]);
    this.#markers = chunks === undefined ? this.#markers + 1 : 0;
  }

  /** The last marker of the write-ahead log (its last entry), if any. */
  async #lastMarker(): Promise<VersionMarker | undefined> {
    const log = this.#log;
    if (log === undefined) return undefined;
    const [first, end] = [await log.first(), await log.end()];
    if (end <= first) return undefined;
    const [entry] = await log.read(end - 1, end);
    try {
      return decodeMarker(entry ?? '');
    } catch (error) {
      const name = this.#started().name;
      throw new SluiceError('CHECKPOINT_CORRUPT', `Source ${name}: the last entry of its write-ahead log is not a table version's marker (${(error as Error).message}). Restore the checkpoint directory from a copy, or start a new checkpoint directory.`, { source: name, cause: error });
    }
  }

  #started(): SourceEnvironment {
    if (this.#env === undefined) throw new SluiceError('SOURCE_FAILED', 'postgresTable: the source was not started with its context.');
    return this.#env;
  }
}
