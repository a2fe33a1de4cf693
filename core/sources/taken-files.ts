import { SluiceError } from '../errors.js';
import type { WriteAheadLog } from './source.js';

/** What the directory source records of a file when it takes it: who the file is, and what it held. */
export interface TakenFile {
  /** Its name in the directory. */
  readonly name: string;
  /** Its size when taken: only these bytes are ever read, so an append after that is never seen. */
  readonly size: number;
  /** Its modification time when taken, in ms. */
  readonly mtimeMs: number;
  /** The CRC-32 of its first `size` bytes, to tell a file changed since it was read. */
  readonly crc32: number;
  /** Its lines in those bytes. */
  readonly lines: number;
}

/**
 * The files a directory source has taken, in the order taken, by index: Spark's file-source
 * metadata log. Offsets name a file by its index here, which never changes: a file found later is
 * appended, whatever its name. When the context is checkpointed, the list lives in the source's
 * log in the checkpoint, and a file is durably recorded before any offset names it, so a restart
 * knows every file a logged batch read and never takes a file twice.
 *
 * Retention drops the oldest entries (and their names) once no replay can need them.
 */
export class TakenFiles {
  #base = 0;
  #files: TakenFile[] = [];
  /** The index of each kept file, by name. */
  readonly #names = new Map<string, number>();
  #newestMtime = Number.NEGATIVE_INFINITY;
  #log: WriteAheadLog | undefined;
  #released = 0;

  /**
   * Keeps the list in `log` and loads what it holds (the files a previous run took).
   *
   * @throws SluiceError `CHECKPOINT_CORRUPT` when an entry is not a file record.
   */
  async attach(log: WriteAheadLog, source: string): Promise<void> {
    const first = await log.first();
    const entries = await log.read(first, await log.end());
    this.#log = log;
    this.#base = first;
    this.#released = first;
    this.#files = [];
    this.#names.clear();
    entries.forEach((entry, i) => {
      this.#add(parseEntry(entry, first + i, source));
    });
  }

  /** The index of the first file kept. */
  get base(): number {
    return this.#base;
  }

  /** The index after the last file taken. */
  get end(): number {
    return this.#base + this.#files.length;
  }

  /** The latest modification time of the files kept. */
  get newestMtime(): number {
    return this.#newestMtime;
  }

  /** Whether a file of this name was taken (and is still kept). */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** The index of the kept file of this name, if any. */
  indexOf(name: string): number | undefined {
    return this.#names.get(name);
  }

  /** The file at `index`, if kept. */
  at(index: number): TakenFile | undefined {
    return this.#files[index - this.#base];
  }

  /** Takes `files`, after the others: durable in the log, when there is one, before this resolves. */
  async take(files: readonly TakenFile[]): Promise<void> {
    if (files.length === 0) return;
    await this.#log?.append(files.map((file) => JSON.stringify(file)));
    for (const file of files) this.#add(file);
  }

  /**
   * Forgets the oldest files that are before `before` (committed: no replay reads them) and were
   * modified more than `maxAgeMs` before the newest file kept, up to the first that is not.
   */
  release(before: number, maxAgeMs: number): void {
    const threshold = this.#newestMtime - maxAgeMs;
    let count = 0;
    while (this.#base + count < before && count < this.#files.length && (this.#files[count] as TakenFile).mtimeMs < threshold) count++;
    if (count === 0) return;
    for (const file of this.#files.slice(0, count)) this.#names.delete(file.name);
    this.#files = this.#files.slice(count);
    this.#base += count;
    if (this.#base > this.#released) {
      this.#released = this.#base;
      this.#log?.release(this.#base);
    }
  }

  #add(file: TakenFile): void {
    this.#names.set(file.name, this.end);
    this.#files.push(file);
    if (file.mtimeMs > this.#newestMtime) this.#newestMtime = file.mtimeMs;
  }
}

function parseEntry(entry: string, index: number, source: string): TakenFile {
  let value: unknown;
  try {
    value = JSON.parse(entry);
  } catch {
    value = undefined;
  }
  const file = value as Partial<Record<keyof TakenFile, unknown>> | undefined;
  const isCount = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  if (typeof file !== 'object' || file === null || typeof file.name !== 'string' || !isCount(file.size) || typeof file.mtimeMs !== 'number' || !isCount(file.crc32) || !isCount(file.lines)) {
    throw new SluiceError(
      'CHECKPOINT_CORRUPT',
      `The checkpoint's list of the files source ${source} has taken is damaged: entry ${index} is ${JSON.stringify(entry.slice(0, 200))}, not a file record. Restore the checkpoint directory from a copy, or start a new checkpoint directory.`,
      { source },
    );
  }
  return file as TakenFile;
}
