import { Batch, SluiceError, type DStream, type Duration, type OnError } from 'sluice';
import { decodeTime, encodeTime, StatefulDStream, type BatchContext, type CommitParticipant, type StateBackend, type StateStore } from 'sluice/extend';
import { WindowBuffer } from './window-buffer.js';
import type { WindowGeometry } from './window-geometry.js';

/** What a windowed stream produces at a slide time. */
export interface WindowSlide<T> {
  /** The window's batch. */
  readonly batch: Batch<T>;
  /** Moves the operator's own state forward; called only when the batch commits. */
  readonly commit?: () => void;
  /** Takes back what `slide` did to the operator's own state; called when the batch does not commit. */
  readonly abort?: () => void;
  /** The operator's new state in storable form, checkpointed with the batch (see `restoreState`). */
  readonly state?: unknown;
}

/** What every stateful batch-time window operator takes besides its geometry. */
export interface WindowStateOptions {
  /** The operator's stable name: its state is stored under it (default `kind#position`). */
  readonly name?: string | undefined;
  /**
   * Keeps the window's state on this backend rather than on the context's default backend (not
   * with a checkpoint, which keeps every operator's state).
   */
  readonly stateBackend?: StateBackend | undefined;
}

/** Options of the keyed batch-time windows (`reduceByKeyAndWindow`, `countByValueAndWindow`, `groupByKeyAndWindow`). */
export interface KeyedWindowOptions extends WindowStateOptions {
  /** Partitions of the result (default: the context's `defaultParallelism`). */
  readonly numPartitions?: number | undefined;
  /**
   * What to do with a record whose key is not a key, or on which the reduce function throws while
   * a batch is reduced per key (default: the context's `onError`, `'fail'` unless set). Merging
   * the batches of a window (and `inverse`, `filter`) handles no one record: a throw there always
   * fails the batch.
   */
  readonly onError?: OnError | undefined;
}

/** Store rows: `B<time>` a held batch's partitions, `I` the operator's incremental state. */
const heldRow = (time: number): string => `B${encodeTime(time)}`;
const STATE_ROW = 'I';

/** What one batch changed, made permanent when the batch commits and undone when it fails. */
interface Staged {
  readonly batchId: number;
  readonly time: number;
  readonly lastSlideTime: number;
  commit: (() => void) | undefined;
  abort: (() => void) | undefined;
}

/**
 * The shared body of the batch-time window family. Every batch it computes its input (the engine
 * cannot compute a past batch later), keeps what `prepare` makes of it in a {@link WindowBuffer},
 * and at slide times (batch times `t` where `t - zeroTime` is a multiple of the slide) hands the
 * buffer to `slide`; at other batch times it produces nothing. The buffer and the operator's
 * state move forward only when the batch commits.
 *
 * The held batches and the incremental state are also kept in the operator's state store, so a
 * checkpoint brings them back after a restart (with a LevelDB backend or a checkpoint, the
 * records of a windowed stream must be storable state values).
 */
export abstract class WindowedDStream<I, B, T> extends StatefulDStream<T> {
  /** The window length. */
  readonly length: Duration;
  /** The held (prepared) input batches, by batch time. */
  protected readonly buffer = new WindowBuffer<B>();
  readonly #input: DStream<I>;
  #lastBatchId: number | undefined;
  #staged: Staged | undefined;
  #restored = false;
  /**
   * @param incremental - whether the operator keeps a running window (an inverse function): its
   *   stored state then holds that window besides the held batches.
   */
  protected constructor(kind: string, input: DStream<I>, geometry: WindowGeometry, options: WindowStateOptions = {}, incremental = false) {
    super({
      kind,
      graph: input.graph,
      parents: [input],
      name: options.name,
      stateBackend: options.stateBackend,
      slideDuration: geometry.slide,
      state: { config: { length: geometry.length, slide: geometry.slide, incremental } },
    });
    this.#input = input;
    this.length = geometry.length;
    // The buffer and the operator's own state move forward when a batch has committed, and are
    // undone when it did not.
    const participant: CommitParticipant = {
      name: this.describe,
      prepare: () => undefined,
      committed: (batchId) => {
        this.#commit(batchId);
      },
      // Pipelined commit: the next batch computes on the moved buffer and state, as if the batch had committed.
      handOff: (batchId) => {
        this.#commit(batchId);
      },
      aborted: (batchId) => {
        this.#abort(batchId);
      },
    };
    this.graph.addCommitParticipant(participant);
  }

  /** Turns one input batch into what the buffer holds (itself, or its per-key reduction). */
  protected abstract prepare(input: Batch<I>, bc: BatchContext): Promise<Batch<B>> | Batch<B>;

  /** Computes the window ending at batch time `time` from the buffer. */
  protected abstract slide(bc: BatchContext, time: number): Promise<WindowSlide<T>> | WindowSlide<T>;

  /**
   * After the batch at `time` commits, held batches at or before the returned time are dropped.
   * By default, those no later window covers; an incremental operator keeps those it must still
   * take out of its state at the next slide.
   */
  protected horizon(time: number, _lastSlideTime: number): number {
    return time - this.length;
  }

  /** Restores the incremental state a slide stored (`WindowSlide.state`) after a restart. */
  protected restoreState(_state: unknown): void {
    // Operators without incremental state keep nothing.
  }

  override stateOf(entry: unknown): unknown {
    return entry;
  }

  /**
   * Keys of state besides the held batches (an incremental window's keys), for `stateRows`, which
   * counts the records of the held batches plus these.
   */
  protected stateKeys(): number {
    return 0;
  }

  protected override async compute(bc: BatchContext): Promise<Batch<T> | undefined> {
    const input = await this.#input.getOrCompute(bc);
    const store = this.store;
    if (!this.#restored) await this.#restore(store);
    this.#checkContiguous(bc);
    const time = bc.batchTime as number;
    const sinceLastSlide = (time - bc.zeroTime) % this.slideDuration;
    const staged: Staged = { batchId: bc.batchId, time, lastSlideTime: time - sinceLastSlide, commit: undefined, abort: undefined };
    if (input !== undefined) {
      const prepared = await this.prepare(input, bc);
      this.buffer.push(time, prepared);
      store.put(heldRow(time), prepared.partitions);
    }
    this.#staged = staged;
    let output: Batch<T> | undefined;
    if (sinceLastSlide === 0) {
      const result = await this.slide(bc, time);
      staged.commit = result.commit;
      staged.abort = result.abort;
      output = result.batch;
      if (result.state !== undefined) store.put(STATE_ROW, result.state);
    }
    for (const dropped of this.buffer.timesThrough(this.horizon(time, staged.lastSlideTime))) store.delete(heldRow(dropped));
    const held = this.buffer.rowsAfter(this.horizon(time, staged.lastSlideTime));
    bc.reportOperator({ operator: this.describe, stateRows: held + this.stateKeys() });
    return output;
  }

  /** Brings back the held batches and the incremental state a checkpoint kept. */
  async #restore(store: StateStore): Promise<void> {
    this.#restored = true;
    for await (const [row, partitions] of store.scan({ prefix: 'B' })) {
      this.buffer.push(decodeTime(row.slice(1)), new Batch(partitions as B[][]));
    }
    await store.load([STATE_ROW]);
    const state = store.get(STATE_ROW);
    if (state !== undefined) this.restoreState(state);
  }

  /**
   * A window built from a stream that missed batches would be silently wrong, so a gap fails the
   * batch instead (a consumer that does not compute this stream every batch causes it).
   */
  #checkContiguous(bc: BatchContext): void {
    const last = this.#lastBatchId;
    if (last === undefined || bc.batchId === last + 1) return;
    const missed = bc.batchId - 1 === last + 1 ? `batch ${last + 1}` : `batches ${last + 1} to ${bc.batchId - 1}`;
    throw new SluiceError(
      'BATCH_FAILED',
      `it was not computed in ${missed}, so its windows would miss that input. A windowed stream must be computed every batch, also between slides; every consumer of it must ask for its batch each batch`,
      { operator: this.describe },
    );
  }

  #commit(batchId: number): void {
    const staged = this.#staged;
    if (staged?.batchId !== batchId) return;
    staged.commit?.();
    this.buffer.dropThrough(this.horizon(staged.time, staged.lastSlideTime));
    this.#lastBatchId = batchId;
    this.#staged = undefined;
  }

  #abort(batchId: number): void {
    const staged = this.#staged;
    if (staged?.batchId !== batchId) return;
    staged.abort?.();
    this.buffer.removeNewest(staged.time);
    this.#staged = undefined;
  }
}
