import type { WriteAheadLog } from 'sluice';
import { batchIdOf, batchKey, type CheckpointDb } from './checkpoint-layout.js';

/**
 * The receiver write-ahead log of one push source, in the checkpoint's LevelDB (`wal/<source>`):
 * received lines under 16-hex-digit indexes. Appends are serialized and each is one atomic batch.
 */
function walOf(db: CheckpointDb, source: string) {
  return db.sublevel(['wal', encodeURIComponent(source).replaceAll('%', '~')], { keyEncoding: 'utf8', valueEncoding: 'utf8' });
}

export class LevelWriteAheadLog implements WriteAheadLog {
  readonly #db: ReturnType<typeof walOf>;
  #end: number | undefined;
  #oldest = 0;

  constructor(db: CheckpointDb, source: string) {
    this.#db = walOf(db, source);
  }

  /** The sublevel, for deletions in the checkpoint's commit. */
  get sublevel(): object {
    return this.#db;
  }

  async end(): Promise<number> {
    if (this.#end === undefined) {
      const [last] = await this.#db.keys({ reverse: true, limit: 1 }).all();
      const [first] = await this.#db.keys({ limit: 1 }).all();
      this.#end = last === undefined ? 0 : batchIdOf(last) + 1;
      this.#oldest = first === undefined ? this.#end : batchIdOf(first);
    }
    return this.#end;
  }

  async append(records: readonly string[]): Promise<void> {
    let index = await this.end();
    await this.#db.batch(records.map((value) => ({ type: 'put' as const, key: batchKey(index++), value })));
    this.#end = index;
  }

  async read(from: number, to: number): Promise<string[]> {
    const lines = await this.#db.values({ gte: batchKey(from), lt: batchKey(to) }).all();
    if (lines.length !== to - from) throw new Error(`the write-ahead log holds ${lines.length} of the lines ${from} to ${to - 1}`);
    return lines;
  }

  /**
   * Keys of the lines before `index` that the log holds and that are not yet deleted, and marks
   * them deleted. Only a push source appends, and it opens its log (reads `end()`) when it starts;
   * a log never opened (that of a queue, rate or iterable source) holds nothing and gives no key,
   * however far `index` is.
   */
  purgeBefore(index: number): string[] {
    if (this.#end === undefined) return [];
    const upTo = Math.min(index, this.#end);
    const keys: string[] = [];
    for (let i = this.#oldest; i < upTo; i++) keys.push(batchKey(i));
    this.#oldest = Math.max(this.#oldest, upTo);
    return keys;
  }
}
