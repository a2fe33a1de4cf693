import type { Logger } from 'pino';
import type { Clock } from '../clock/clock.js';
import type { Time } from '../time.js';

/**
 * How far a source has data: any JSON value (a record count, `{ file, line }`, ...). Offsets are
 * logged in the batch plan, so the same offsets must always give the same records.
 */
export type Offset = number | string | boolean | null | readonly Offset[] | { readonly [key: string]: Offset };

/** A record a source could not parse, kept with why and where. */
export interface BadRecord {
  /** The source's name. */
  readonly source: string;
  /** The raw text of the record. */
  readonly raw: string;
  /** Why it could not be parsed. */
  readonly reason: string;
  /** Where it came from (`file:line`, a byte position, ...), if known. */
  readonly location?: string;
}

/** What a source returns for a range of offsets. */
export interface SourceRead<T> {
  /** The records, in order. */
  readonly records: readonly T[];
  /** The records in the range that could not be parsed. */
  readonly badRecords?: readonly BadRecord[];
  /** Calls the source tried again after a transient failure (a lost connection) since its previous read, for the batch's progress. */
  readonly retries?: number;
}

/** What a source may use while it runs. */
export interface SourceEnvironment {
  /** The context's clock: the only way a source may read time or set timers. */
  readonly clock: Clock;
  /** A logger bound to the source's name. */
  readonly logger: Logger;
  /** The source's name as registered. */
  readonly name: string;
  /**
   * Where a push source (one with no offsets of its own, such as a socket) writes what it receives
   * before the records join a batch, when the context is checkpointed: with it, the source is
   * replayable after a restart (the receiver write-ahead log).
   */
  readonly writeAheadLog?: WriteAheadLog;
}

/**
 * A durable, append-only log a source keeps in the checkpoint, indexed from 0 in the order
 * appended (docs/architecture.md): the raw records a push source received (the receiver
 * write-ahead log), or what a source must remember across restarts (the files a directory source
 * has taken). Appends are durable when the promise resolves.
 *
 * Old entries are deleted by commits that persist state: for a source whose offsets are record
 * indexes (numbers), the entries before the batch's end offset; for any other source, the entries
 * before what it last passed to `release`.
 */
export interface WriteAheadLog {
  /** The index after the last record logged (what a restarted source resumes at). */
  end(): Promise<number>;
  /** The index of the oldest record kept (`end()` when the log is empty). */
  first(): Promise<number>;
  /** Appends records at indexes `end, end + 1, ...`; durable on resolve. */
  append(records: readonly string[]): Promise<void>;
  /** The records with indexes in `[from, to)`. */
  read(from: number, to: number): Promise<string[]>;
  /**
   * The records before `index` are no longer needed (a source whose offsets are not record
   * indexes says so after a commit): the next commit that persists state deletes them.
   */
  release(index: number): void;
}

/**
 * A source of records, replayable by offsets (docs/architecture.md). Each batch, the scheduler
 * asks `latestOffset(start, maxRecords)` for the batch's end, logs `[start, end]` in the plan,
 * then calls `read(start, end)`, and `commit(end)` once the batch is committed.
 *
 * Rules: `read` of the same range returns the same records; `latestOffset` returns `start` when
 * there is nothing new; at most `maxRecords` records (records plus bad records) lie in a range.
 */
export interface Source<T> {
  /** What kind of source this is, for names and logs (`'queue'`, `'directory'`, ...). */
  readonly kind: string;
  /** Whether the source can give the same records for logged offsets after a restart. */
  readonly replayable: boolean;
  /** Connects or opens whatever the source reads. */
  start?(env: SourceEnvironment): Promise<void> | void;
  /** The offset before the first record. */
  initialOffset(): Offset;
  /**
   * The end offset of the next batch, at most `maxRecords` past `start`; `start` when there is
   * nothing new. `batchTime` is the time of the batch being planned (the scheduler always gives it), for a source whose data
   * changes on a schedule of batch times (a table refreshed every minute).
   */
  latestOffset(start: Offset, maxRecords: number, batchTime?: Time): Promise<Offset> | Offset;
  /** The records after `start` up to and including `end`. */
  read(start: Offset, end: Offset): Promise<SourceRead<T>> | SourceRead<T>;
  /** Everything up to `end` is committed: the source may forget it. */
  commit?(end: Offset): Promise<void> | void;
  /**
   * Makes the source end, for a bounded run (`ctx.runToCompletion`, Structured Streaming's
   * `prepareForTriggerAvailableNow`): called once, after `start` and before the run plans its
   * first new batch. From then on the source gives only the data it has now, or what it will give
   * before it ends by itself (an iterable), and `latestOffset` returns `start` only when nothing is
   * left for the run: the run ends at the first batch with no data. A source without this method
   * cannot end (a socket), and a bounded run refuses it with a `TypeError` naming it.
   *
   * @throws TypeError when the source, as configured, cannot end (a rate source without `totalRows`).
   */
  prepareForBoundedRun?(): Promise<void> | void;
  /** Graceful stop: accept no new data, but keep what was received readable. */
  stopReceiving?(): Promise<void> | void;
  /** Releases connections, files and timers. */
  stop?(): Promise<void> | void;
}

/** Whether two offsets are the same (by value). */
export function offsetEquals(a: Offset, b: Offset): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
