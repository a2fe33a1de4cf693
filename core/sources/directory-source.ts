import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { scanDirectory, type FileStamp } from './directory-scan.js';
import { lineParser, parseLines, type LineFormat } from './line-format.js';
import type { BadRecord, Offset, Source, SourceEnvironment, SourceRead } from './source.js';

/** Options of {@link DirectorySource}. */
export interface DirectorySourceOptions<T> {
  /**
   * How a line becomes a record (default `'text'`). `'text'` keeps every line, blank ones too
   * (as Spark's `textFileStream` does); `'ndjson'` and a function skip blank lines. Lines that
   * fail to parse are returned as bad records, located `path:line` (1-based).
   */
  readonly format?: LineFormat<T>;
}

/** A file the source has taken, at its index in the discovery list. */
interface TakenFile {
  readonly name: string;
  readonly path: string;
  /** Its size when taken: only these bytes are read, so an append after that is never seen. */
  readonly size: number;
  /** Its lines, fixed the first time the file is read. */
  lineCount: number | undefined;
  warned: boolean;
}

/** `{ file, line }`: an index into the discovery list and the lines of that file already consumed. */
interface FilePosition {
  readonly file: number;
  readonly line: number;
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
 * Files that become stable in one listing are taken in name order (code-unit order) and appended
 * to the discovery list; a file that appears later is taken after them even if its name sorts
 * first, so no file is lost. A file is taken once: a change after it was taken is not read (a
 * warning is logged). A directory that does not exist yet reads as empty; a path that is not a
 * directory fails the batch (`SOURCE_FAILED`).
 *
 * Offsets are `{ file, line }`: the file's index in the discovery list and the number of its lines
 * already consumed. Blank lines and bad lines count towards offsets and `maxRecords`.
 *
 * @remarks Replayable within the process while the files stay on disk: the same offsets give the
 * same records. The discovery list lives in memory, so after a restart the offsets of a previous
 * run mean nothing until checkpointing persists the list.
 *
 * @example
 * const events = ctx.source(new DirectorySource<Event>('/data/incoming', { format: 'ndjson' }), {
 *   name: 'events', maxRecordsPerBatch: 10_000, badRecords: 'deadLetter',
 * });
 * events.deadLetters.pipe(print());
 */
export class DirectorySource<T = string> implements Source<T> {
  /** `'directory'`. */
  readonly kind = 'directory';
  /** `true` within the process (see the remarks above). */
  readonly replayable = true;
  /** The directory read. */
  readonly directory: string;
  readonly #parse: (line: string) => T;
  readonly #skipBlank: boolean;
  /** The discovery list: append-only, so an index names the same file for the process's life. */
  readonly #files: TakenFile[] = [];
  readonly #taken = new Map<string, TakenFile>();
  /** What the previous listing saw of the files not taken yet. */
  #pending = new Map<string, FileStamp>();
  /** Lines of files not yet committed, by index, so a big file read range by range is read once. */
  readonly #lines = new Map<number, readonly string[]>();
  #committedFile = 0;
  #name = 'directory';
  #logger: Logger | undefined;
  #reportedMissing = false;
  #receiving = true;

  /**
   * @param directory - the folder to read; it may not exist yet.
   * @param options - see {@link DirectorySourceOptions}.
   * @throws TypeError when `directory` is not a non-empty string or `format` is not a line format.
   */
  constructor(directory: string, options: DirectorySourceOptions<T> = {}) {
    if (typeof directory !== 'string' || directory === '') {
      throw new TypeError(`DirectorySource: directory must be a non-empty path, got ${JSON.stringify(directory)}.`);
    }
    const format = options.format ?? 'text';
    this.directory = directory;
    this.#parse = lineParser(format);
    this.#skipBlank = format !== 'text';
  }

  /** Keeps the source's name (for bad records) and logger. */
  start(env: SourceEnvironment): void {
    this.#name = env.name;
    this.#logger = env.logger;
  }

  /** `{ file: 0, line: 0 }`. */
  initialOffset(): Offset {
    return { file: 0, line: 0 };
  }

  /**
   * Lists the directory, takes the files that became stable, and returns the position up to
   * `maxRecords` lines after `start` (a fully consumed file ends as `{ file: next, line: 0 }`).
   *
   * @returns `start` itself when there are no new lines.
   * @throws Error when the path is not a directory or a file cannot be read (the runner reports `SOURCE_FAILED`).
   */
  async latestOffset(startOffset: Offset, maxRecords: number): Promise<Offset> {
    const start = this.#position(startOffset);
    if (this.#receiving) await this.#discover();
    let { file, line } = start;
    const limit = Math.floor(maxRecords); // offsets count whole lines, even if a limit is fractional
    let taken = 0;
    while (taken < limit && file < this.#files.length) {
      const count = await this.#lineCount(file);
      if (line > count) throw new RangeError(`DirectorySource: offset line ${line} is past the ${count} lines of ${this.#file(file).path}.`);
      const take = Math.min(count - line, limit - taken);
      line += take;
      taken += take;
      if (line === count) {
        file += 1;
        line = 0;
      }
    }
    // Empty files are only stepped over together with lines, so no lines means `start` itself.
    return taken === 0 ? startOffset : { file, line };
  }

  /**
   * The records of the lines after `start` up to `end`, parsed, with the lines that failed as bad
   * records (`location` is `path:line`). The same range always gives the same records.
   *
   * @throws RangeError when the range is not one this source reported; Error when a file was
   * deleted or shortened before its lines were read.
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
      if (to > lines.length) throw new RangeError(`DirectorySource: offset line ${to} is past the ${lines.length} lines of ${this.#file(index).path}.`);
      const { path } = this.#file(index);
      const parsed = parseLines(lines.slice(from, to), this.#parse, this.#name, this.#skipBlank, (i) => `${path}:${from + i + 1}`);
      for (const record of parsed.records) records.push(record);
      for (const bad of parsed.badRecords) badRecords.push(bad);
    }
    return { records, badRecords };
  }

  /** Takes no new files; the lines of files already taken stay readable (a graceful stop drains them). */
  stopReceiving(): void {
    this.#receiving = false;
  }

  /** Forgets the cached lines of the files wholly before `end`. */
  commit(endOffset: Offset): void {
    const { file } = this.#position(endOffset);
    if (file <= this.#committedFile) return;
    for (const index of this.#lines.keys()) if (index < file) this.#lines.delete(index);
    this.#committedFile = file;
  }

  async #discover(): Promise<void> {
    const listing = await scanDirectory(this.directory);
    if (listing === undefined) {
      if (!this.#reportedMissing) this.#logger?.info({ directory: this.directory }, 'the directory does not exist yet; reading it as empty until it does');
      this.#reportedMissing = true;
      return;
    }
    this.#reportedMissing = false;
    const pending = new Map<string, FileStamp>();
    const stable: string[] = [];
    for (const [name, stamp] of listing) {
      const taken = this.#taken.get(name);
      if (taken !== undefined) {
        if (stamp.size !== taken.size) this.#warnChanged(taken, stamp.size);
        continue;
      }
      const before = this.#pending.get(name);
      if (before !== undefined && before.size === stamp.size && before.mtimeMs === stamp.mtimeMs) stable.push(name);
      else pending.set(name, stamp);
    }
    this.#pending = pending;
    stable.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of stable) {
      const file: TakenFile = { name, path: join(this.directory, name), size: (listing.get(name) as FileStamp).size, lineCount: undefined, warned: false };
      this.#files.push(file);
      this.#taken.set(name, file);
    }
  }

  async #lineCount(index: number): Promise<number> {
    return this.#file(index).lineCount ?? (await this.#linesOf(index)).length;
  }

  /** The lines of file `index`: cached, or read from the first `size` bytes of the file. */
  async #linesOf(index: number): Promise<readonly string[]> {
    const cached = this.#lines.get(index);
    if (cached !== undefined) return cached;
    const file = this.#file(index);
    const bytes = await readFile(file.path);
    if (bytes.length !== file.size) this.#warnChanged(file, bytes.length);
    const lines = splitLines(bytes.toString('utf8', 0, Math.min(bytes.length, file.size)));
    if (file.lineCount !== undefined && lines.length < file.lineCount) {
      throw new Error(`${file.path} changed after it was taken: it had ${file.lineCount} lines and now has ${lines.length}, so its records cannot be read again.`);
    }
    file.lineCount ??= lines.length;
    if (index >= this.#committedFile) this.#lines.set(index, lines);
    return lines;
  }

  #warnChanged(file: TakenFile, size: number): void {
    if (file.warned) return;
    file.warned = true;
    this.#logger?.warn({ file: file.path, takenSize: file.size, size }, 'a file changed after the directory source took it; the change is not read (write files under a temporary name, then rename them)');
  }

  #file(index: number): TakenFile {
    const file = this.#files[index];
    if (file === undefined) {
      throw new RangeError(`DirectorySource: offset file ${index} is past the ${this.#files.length} files discovered; the discovery list lives in memory, so offsets from another run cannot be read.`);
    }
    return file;
  }

  #position(offset: Offset): FilePosition {
    const { file, line } = (typeof offset === 'object' && offset !== null && !Array.isArray(offset) ? offset : {}) as Partial<Record<string, Offset>>;
    if (!isCount(file) || !isCount(line) || file > this.#files.length || (file === this.#files.length && line !== 0)) {
      throw new RangeError(`DirectorySource: ${JSON.stringify(offset)} is not an offset of this source (expected { file, line } within the ${this.#files.length} files discovered).`);
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
