import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from 'pino';
import { SluiceError } from '../errors.js';
import { parseDuration, type DurationLike } from '../time.js';
import { errorCode, scanDirectory, type FileStamp } from './directory-scan.js';
import { lineParser, parseLines, type LineFormat, type LineRecordOptions } from './line-format.js';
import type { BadRecord, Offset, Source, SourceEnvironment, SourceRead } from './source.js';
import { TakenFiles, type TakenFile } from './taken-files.js';

/** Options of {@link DirectorySource}. */
export interface DirectorySourceOptions<T> extends LineRecordOptions<T> {
  /**
   * How a line becomes a record (default `'text'`). `'text'` keeps every line, blank ones too
   * (as Spark's `textFileStream` does); `'ndjson'`, `'json-values'` and a function skip blank
   * lines. Lines that fail to parse or `validate` are returned as bad records, located
   * `path:line` (1-based).
   */
  readonly format?: LineFormat<T>;
  /**
   * The most files one batch reads lines from (Spark's `maxFilesPerTrigger`; default: no limit).
   * The records limit of the source (`maxRecordsPerBatch`) counts across files as well.
   */
  readonly maxFilesPerBatch?: number;
  /**
   * Retention (Spark's `maxFileAge`; default: keep every file's record). A file modified more
   * than this before the newest file taken is not taken (a warning names it), and the record of
   * such a file is dropped from the list of taken files once its batch is committed, so that list
   * stays bounded in a long-lived directory. The first listing takes every file, however old.
   */
  readonly maxFileAge?: DurationLike;
}

/** `{ file, line }`: a file's index in the list of taken files and the number of its lines already consumed. */
interface FilePosition {
  readonly file: number;
  readonly line: number;
}

/** A stable file that is not taken yet. */
interface StableFile {
  readonly name: string;
  readonly stamp: FileStamp;
}

/**
 * Spark's `textFileStream`: the lines of the files in a directory, each new file picked up once,
 * in name order. A file is read as text (`'text'`, the default), NDJSON or with a parse function
 * of the line. Lines split on `\n`, a trailing `\r` is dropped, a last line without a newline
 * counts, and a leading UTF-8 byte-order mark is dropped.
 *
 * Each batch lists the directory (not its subfolders). Names starting with `.` or `_`, and names
 * ending in `.tmp`, `.part`, `.crdownload` or `._COPYING_`, are skipped. A file is taken only once
 * it is **stable**: the same size and modification time on two listings in a row, so a
 * half-written file is not read early. A new file is therefore picked up by the second batch
 * after it appears. The safe way to add a file is still to write it under a skipped name (or in
 * another folder on the same disk) and rename it into place: a writer that pauses for a whole
 * batch interval would otherwise have its file taken half-written.
 *
 * Stable files are taken in the order they became stable, and in name order (code-unit order)
 * among those that became stable in the same listing; a file taken is recorded with its identity
 * (name, size, modification time, a CRC-32 of its content and its line count) at the end of the
 * list of taken files. A file that appears later is taken after the others even if its name sorts
 * first, so no file is lost and none shifts. A file is taken once: a change after it was taken is
 * not read (a warning is logged). A directory that does not exist yet reads as empty; a path that
 * is not a directory fails the batch (`SOURCE_FAILED`).
 *
 * Offsets are `{ file, line }`: the file's index in the list of taken files and the number of its
 * lines already consumed. Blank lines and bad lines count towards offsets and `maxRecords`.
 *
 * **Restarts.** In a checkpointed context the list of taken files lives in the checkpoint (Spark's
 * file-source metadata log), and a file is recorded there before any logged batch names it. A
 * restarted job therefore reads the files of the batches it replays again, byte for byte, and
 * never takes a file twice. A file deleted or shortened before its records were read again fails
 * the batch with `SOURCE_OFFSET_UNAVAILABLE` naming it; a file whose content changed since it was
 * read fails the same way rather than giving other records; a file that only grew is read up to
 * its size when taken (a warning says the rest is not read).
 *
 * **Memory.** A file is read whole when it is taken, and its lines are kept until the batch that
 * finishes it commits. A batch takes files only as far as its `maxRecordsPerBatch` lines and
 * `maxFilesPerBatch` files reach, so the source holds the files of the batch being planned and
 * run, plus the one it ends inside: set those limits to bound it, and keep each file to a size
 * that fits in memory (one file is read whole however large). The list of taken files grows by
 * one small entry per file unless `maxFileAge` lets old entries go.
 *
 * @example
 * const events = ctx.source(new DirectorySource<Event>('/data/incoming', { format: 'ndjson', maxFilesPerBatch: 100 }), {
 *   name: 'events', maxRecordsPerBatch: 10_000, badRecords: 'deadLetter',
 * });
 * events.deadLetters.pipe(print());
 */
export class DirectorySource<T = string> implements Source<T> {
  /** `'directory'`. */
  readonly kind = 'directory';
  /** `true`: the same offsets give the same records, after a restart too while the files stay on disk. */
  readonly replayable = true;
  /** The directory read. */
  readonly directory: string;
  readonly #parse: (line: string) => T;
  readonly #skipBlank: boolean;
  readonly #maxFiles: number;
  readonly #maxFileAge: number;
  readonly #taken = new TakenFiles();
  /** Stable files not taken yet, in the order they will be taken. */
  #stable: StableFile[] = [];
  /** What the previous listing saw of the files neither taken nor stable yet. */
  #pending = new Map<string, FileStamp>();
  /** Lines of files not yet committed, by index, so a big file read range by range is read once. */
  readonly #lines = new Map<number, readonly string[]>();
  /** Names warned about (changed after taken, or too old), so each is said once. */
  readonly #warned = new Set<string>();
  #committedFile = 0;
  #name = 'directory';
  #logger: Logger | undefined;
  #reportedMissing = false;
  #receiving = true;
  /** Whether each batch lists the directory (not in a bounded run, which reads the files present at its start). */
  #listing = true;

  /**
   * @param directory - the folder to read; it may not exist yet.
   * @param options - see {@link DirectorySourceOptions}.
   * @throws TypeError when `directory` is not a non-empty string or `format` is not a line format;
   * RangeError when `maxFilesPerBatch` is not a positive integer or `maxFileAge` not a duration.
   */
  constructor(directory: string, options: DirectorySourceOptions<T> = {}) {
    if (typeof directory !== 'string' || directory === '') {
      throw new TypeError(`DirectorySource: directory must be a non-empty path, got ${JSON.stringify(directory)}.`);
    }
    const { maxFilesPerBatch } = options;
    if (maxFilesPerBatch !== undefined && !(Number.isInteger(maxFilesPerBatch) && maxFilesPerBatch > 0)) {
      throw new RangeError(`DirectorySource: maxFilesPerBatch must be a positive integer, got ${JSON.stringify(maxFilesPerBatch)}.`);
    }
    const format = options.format ?? 'text';
    this.directory = directory;
    this.#parse = lineParser(format, options.validate);
    this.#skipBlank = format !== 'text';
    this.#maxFiles = maxFilesPerBatch ?? Number.POSITIVE_INFINITY;
    this.#maxFileAge = options.maxFileAge === undefined ? Number.POSITIVE_INFINITY : parseDuration(options.maxFileAge, 'DirectorySource: maxFileAge');
  }

  /**
   * Keeps the source's name (for bad records) and logger, and, in a checkpointed context, loads
   * the list of files a previous run took from the source's log in the checkpoint.
   *
   * @throws SluiceError `CHECKPOINT_CORRUPT` when that list is damaged.
   */
  async start(env: SourceEnvironment): Promise<void> {
    this.#name = env.name;
    this.#logger = env.logger;
    if (env.writeAheadLog !== undefined) {
      await this.#taken.attach(env.writeAheadLog, env.name);
      this.#committedFile = this.#taken.base;
      if (this.#taken.end > 0) this.#logger.info({ directory: this.directory, files: this.#taken.end - this.#taken.base }, 'resuming the files a previous run took');
    }
  }

  /** `{ file: 0, line: 0 }`. */
  initialOffset(): Offset {
    return { file: 0, line: 0 };
  }

  /**
   * Lists the directory, and returns the position up to `maxRecords` lines (and `maxFilesPerBatch`
   * files) after `start`, taking stable files as far as it needs them: each is read, recorded
   * (durably, in a checkpointed context) and only then named by the offset returned.
   *
   * @returns `start` itself when there are no new lines.
   * @throws Error when the path is not a directory or a file cannot be read (the runner reports `SOURCE_FAILED`).
   */
  async latestOffset(startOffset: Offset, maxRecords: number): Promise<Offset> {
    const start = this.#position(startOffset);
    if (this.#receiving && this.#listing) await this.#discover();
    let { file, line } = start;
    const limit = Math.floor(maxRecords); // offsets count whole lines, even if a limit is fractional
    const fresh: TakenFile[] = [];
    let taken = 0;
    let files = 0;
    while (taken < limit) {
      const entry = this.#taken.at(file) ?? fresh[file - this.#taken.end] ?? (await this.#takeNext(this.#taken.end + fresh.length));
      if (entry === undefined) break;
      if (file === this.#taken.end + fresh.length) fresh.push(entry);
      if (line > entry.lines) throw new RangeError(`DirectorySource: offset line ${line} is past the ${entry.lines} lines of ${this.#path(entry)}.`);
      if (line < entry.lines) {
        if (files === this.#maxFiles) break;
        const take = Math.min(entry.lines - line, limit - taken);
        line += take;
        taken += take;
        files += 1;
      }
      if (line === entry.lines) {
        file += 1;
        line = 0;
      }
    }
    await this.#taken.take(fresh);
    // Empty files are only stepped over together with lines, so no lines means `start` itself.
    return taken === 0 ? startOffset : { file, line };
  }

  /**
   * The records of the lines after `start` up to `end`, parsed, with the lines that failed as bad
   * records (`location` is `path:line`). The same range always gives the same records.
   *
   * @throws RangeError when the range is not one this source reported; SluiceError
   * `SOURCE_OFFSET_UNAVAILABLE` when a file was deleted, shortened or changed before its lines were
   * read again.
   */
  async read(startOffset: Offset, endOffset: Offset): Promise<SourceRead<T>> {
    const start = this.#position(startOffset);
    const end = this.#position(endOffset);
    if (end.file < start.file || (end.file === start.file && end.line < start.line)) {
      throw new RangeError(`DirectorySource: end ${JSON.stringify(endOffset)} is before start ${JSON.stringify(startOffset)}.`);
    }
    const records: T[] = [];
    const badRecords: BadRecord[] = [];
    for (let index = start.file; index <= end.file; index++) {
      const from = index === start.file ? start.line : 0;
      if (index === end.file && end.line <= from) break;
      const lines = await this.#linesOf(index);
      const to = index === end.file ? end.line : lines.length;
      const path = this.#path(this.#file(index));
      if (to > lines.length) throw new RangeError(`DirectorySource: offset line ${to} is past the ${lines.length} lines of ${path}.`);
      const parsed = parseLines(lines.slice(from, to), this.#parse, this.#name, this.#skipBlank, (i) => `${path}:${from + i + 1}`);
      for (const record of parsed.records) records.push(record);
      for (const bad of parsed.badRecords) badRecords.push(bad);
    }
    return { records, badRecords };
  }

  /**
   * A bounded run reads the files present now and ends: they are taken as they are (a finished
   * dataset has no half-written file; no second listing is waited for), in name order after those
   * already stable, and the directory is not listed again.
   */
  async prepareForBoundedRun(): Promise<void> {
    if (this.#receiving) await this.#discover();
    const pending = [...this.#pending].map(([name, stamp]) => ({ name, stamp }));
    pending.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#stable = [...this.#stable, ...pending];
    this.#pending = new Map();
    this.#listing = false;
  }

  /** Takes no new files; the lines of files already taken stay readable (a graceful stop drains them). */
  stopReceiving(): void {
    this.#receiving = false;
  }

  /** Forgets the cached lines of the files wholly before `end`, and the records of old files past `maxFileAge`. */
  commit(endOffset: Offset): void {
    const { file } = this.#position(endOffset);
    if (file <= this.#committedFile) return;
    for (const index of this.#lines.keys()) if (index < file) this.#lines.delete(index);
    this.#committedFile = file;
    if (this.#maxFileAge !== Number.POSITIVE_INFINITY) this.#taken.release(file, this.#maxFileAge);
  }

  /** Lists the directory: files seen unchanged on two listings in a row join the stable files, in name order. */
  async #discover(): Promise<void> {
    const listing = await scanDirectory(this.directory);
    if (listing === undefined) {
      if (!this.#reportedMissing) this.#logger?.info({ directory: this.directory }, 'the directory does not exist yet; reading it as empty until it does');
      this.#reportedMissing = true;
      return;
    }
    this.#reportedMissing = false;
    const queued = new Set(this.#stable.map((file) => file.name));
    const pending = new Map<string, FileStamp>();
    const stable: StableFile[] = [];
    const tooOld = this.#taken.newestMtime - this.#maxFileAge;
    for (const [name, stamp] of listing) {
      if (queued.has(name)) continue;
      if (this.#taken.has(name)) {
        this.#checkUnchanged(name, stamp);
        continue;
      }
      const before = this.#pending.get(name);
      if (before === undefined || before.size !== stamp.size || before.mtimeMs !== stamp.mtimeMs) pending.set(name, stamp);
      else if (stamp.mtimeMs < tooOld) this.#warnOnce(name, { file: join(this.directory, name), maxFileAge: this.#maxFileAge }, 'a new file is older than maxFileAge before the newest file taken; it is not read');
      else stable.push({ name, stamp });
    }
    this.#pending = pending;
    stable.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#stable = [...this.#stable.filter((file) => listing.has(file.name)), ...stable];
  }

  /**
   * Reads the next stable file and returns its record, to be taken at `index`, or `undefined`
   * when there is none (or the source no longer receives). A file that is gone is skipped; one
   * that changed since its listings goes back to waiting until it is stable again.
   */
  async #takeNext(index: number): Promise<TakenFile | undefined> {
    while (this.#receiving) {
      const next = this.#stable.shift();
      if (next === undefined) return undefined;
      const path = join(this.directory, next.name);
      let bytes: Buffer;
      try {
        bytes = await readFile(path);
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue;
        throw error;
      }
      if (bytes.length !== next.stamp.size) {
        this.#pending.set(next.name, { size: bytes.length, mtimeMs: Number.NaN });
        continue;
      }
      const lines = splitLines(bytes.toString('utf8'));
      this.#lines.set(index, lines);
      return { name: next.name, size: next.stamp.size, mtimeMs: next.stamp.mtimeMs, crc32: crc32(bytes), lines: lines.length };
    }
    return undefined;
  }

  /** The lines of file `index`: cached, or read again from the first `size` bytes of the file, which must be unchanged. */
  async #linesOf(index: number): Promise<readonly string[]> {
    const cached = this.#lines.get(index);
    if (cached !== undefined) return cached;
    const file = this.#file(index);
    const path = this.#path(file);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') throw this.#unavailable(file, 'was deleted');
      throw error;
    }
    if (bytes.length < file.size) throw this.#unavailable(file, `is shorter than when it was taken (${bytes.length} bytes, was ${file.size})`);
    const content = bytes.subarray(0, file.size);
    if (crc32(content) !== file.crc32) throw this.#unavailable(file, `changed after it was read (its first ${file.size} bytes differ)`);
    if (bytes.length > file.size) this.#warnOnce(file.name, { file: path, takenSize: file.size, size: bytes.length }, 'a file grew after the directory source took it; only the bytes it had then are read');
    const lines = splitLines(content.toString('utf8'));
    if (index >= this.#committedFile) this.#lines.set(index, lines);
    return lines;
  }

  #unavailable(file: TakenFile, what: string): SluiceError {
    return new SluiceError(
      'SOURCE_OFFSET_UNAVAILABLE',
      `Source ${this.#name}: ${this.#path(file)} ${what} before its records were read again, so a logged batch cannot be replayed exactly. Put the file back as it was (size ${file.size} bytes), or start a new checkpoint directory.`,
      { source: this.#name },
    );
  }

  #checkUnchanged(name: string, stamp: FileStamp): void {
    const index = this.#taken.indexOf(name);
    const file = index === undefined ? undefined : this.#taken.at(index);
    if (file !== undefined && (stamp.size !== file.size || stamp.mtimeMs !== file.mtimeMs)) {
      this.#warnOnce(name, { file: this.#path(file), takenSize: file.size, size: stamp.size }, 'a file changed after the directory source took it; the change is not read (write files under a temporary name, then rename them)');
    }
  }

  #warnOnce(name: string, details: object, message: string): void {
    if (this.#warned.has(name)) return;
    this.#warned.add(name);
    this.#logger?.warn(details, message);
  }

  #path(file: TakenFile): string {
    return join(this.directory, file.name);
  }

  #file(index: number): TakenFile {
    const file = this.#taken.at(index);
    if (file === undefined) {
      throw new RangeError(`DirectorySource: offset file ${index} is not among the files taken (${this.#taken.base} to ${this.#taken.end - 1}).`);
    }
    return file;
  }

  #position(offset: Offset): FilePosition {
    const { file, line } = (typeof offset === 'object' && offset !== null && !Array.isArray(offset) ? offset : {}) as Partial<Record<string, Offset>>;
    if (!isCount(file) || !isCount(line) || file > this.#taken.end || (file === this.#taken.end && line !== 0)) {
      throw new RangeError(`DirectorySource: ${JSON.stringify(offset)} is not an offset of this source (expected { file, line } within the ${this.#taken.end} files taken).`);
    }
    if (file < this.#taken.base) {
      throw new RangeError(`DirectorySource: ${JSON.stringify(offset)} names a file whose record maxFileAge has already dropped (the oldest kept is file ${this.#taken.base}).`);
    }
    return { file, line };
  }
}

function isCount(value: Offset | undefined): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Splits text into lines: on `\n`, dropping a trailing `\r`; a final `\n` does not start a line. */
function splitLines(text: string): string[] {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.endsWith('\r')) lines[i] = line.slice(0, -1);
  }
  return lines;
}
