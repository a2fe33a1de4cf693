import type { CommitParticipant, PendingCommit, WriteAheadLog } from 'sluice/extend';
import { batchIdOf, batchKey, type CheckpointDb } from './checkpoint-layout.js';
import { corruptInUse } from './checkpoint-errors.js';

/** The sublevel of the write-ahead log of `source`. */
function walOf(db: CheckpointDb, source: string) {
  return db.sublevel(['wal', encodeURIComponent(source).replaceAll('%', '~')], { keyEncoding: 'utf8', valueEncoding: 'utf8' });
}

/**
 * The key, after every 16-hex-digit index, under which a log keeps the index its commits have
 * deleted up to: a log whose every line was deleted still knows where it ends, so a restarted
 * source goes on numbering its lines after the ones its committed offsets count.
 */
const DELETED_BEFORE = '~deleted-before';

/**
 * The receiver write-ahead log of one push source, in the checkpoint's LevelDB (`wal/<source>`):
 * received lines under 16-hex-digit indexes. Appends are serialized and each is one atomic batch.
 * It takes part in the checkpoint's commits: a commit that persists state deletes, in its atomic
 * write, the lines before the batch's end offset, which no replay needs any more, and records that
 * index under {@link DELETED_BEFORE}.
 */
export class LevelWriteAheadLog implements WriteAheadLog, CommitParticipant {
  readonly name: string;
  readonly #directory: string;
  readonly #source: string;
  readonly #db: ReturnType<typeof walOf>;
  #end: number | undefined;
  #oldest = 0;
  /** What the source released: the records before it may be deleted. */
  #released = 0;
  /** The oldest line kept once the batch being committed has committed. */
  #pending: { readonly batchId: number; readonly oldest: number } | undefined;

  constructor(db: CheckpointDb, source: string) {
    this.#directory = db.location;
    this.#source = source;
    this.name = `the write-ahead log of source ${source}`;
    this.#db = walOf(db, source);
  }

  async end(): Promise<number> {
    if (this.#end === undefined) {
      const [last] = await this.#db.keys({ reverse: true, limit: 1, lt: DELETED_BEFORE }).all();
      const [first] = await this.#db.keys({ limit: 1, lt: DELETED_BEFORE }).all();
      const deletedBefore = Number((await this.#db.get(DELETED_BEFORE)) ?? 0);
      this.#end = last === undefined ? deletedBefore : batchIdOf(last) + 1;
      this.#oldest = first === undefined ? this.#end : batchIdOf(first);
    }
    return this.#end;
  }

  async first(): Promise<number> {
    await this.end();
    return this.#oldest;
  }

  release(index: number): void {
    this.#released = Math.max(this.#released, index);
  }

  async append(records: readonly string[]): Promise<void> {
    let index = await this.end();
    await this.#db.batch(records.map((value) => ({ type: 'put' as const, key: batchKey(index++), value })));
    this.#end = index;
  }

  /**
   * The lines `from` to `to - 1`.
   *
   * @throws SluiceError `CHECKPOINT_CORRUPT` when the log lacks some of them: the commits delete
   * only lines no replay needs, so a missing one was lost.
   */
  async read(from: number, to: number): Promise<string[]> {
    const lines = await this.#db.values({ gte: batchKey(from), lt: batchKey(to) }).all();
    if (lines.length !== to - from) {
      throw corruptInUse(this.#directory, `the write-ahead log of source ${this.#source} holds ${lines.length} of the lines ${from} to ${to - 1}`);
    }
    return lines;
  }

  /**
   * Deletes, when the commit persists state, the records before the batch's end offset if the
   * source's offsets are record indexes, or else before what the source released. Only a source
   * that appends opens its log (reads `end()`) when it starts; a log never opened (that of a
   * queue, rate or iterable source) holds nothing and deletes nothing, however far the offset.
   */
  prepare(commit: PendingCommit): void {
    this.#pending = undefined;
    const offset = commit.plan.ranges.find((range) => range.source === this.#source)?.end;
    if (!commit.persistsState || this.#end === undefined) return;
    const end = Math.min(typeof offset === 'number' ? offset : this.#released, this.#end);
    if (end <= this.#oldest) return;
    const operations: object[] = [];
    for (let i = this.#oldest; i < end; i++) operations.push({ type: 'del', sublevel: this.#db, key: batchKey(i) });
    operations.push({ type: 'put', sublevel: this.#db, key: DELETED_BEFORE, value: String(end) });
    commit.write(operations);
    this.#pending = { batchId: commit.batchId, oldest: end };
  }

  committed(batchId: number): void {
    if (this.#pending?.batchId === batchId) this.#oldest = this.#pending.oldest;
    this.#pending = undefined;
  }

  aborted(): void {
    this.#pending = undefined;
  }
}
