import { Batch, type DStream, type Key, type Pair } from 'sluice';
import { decodeKey, encodeKey, ErrorPolicy, hashKey, StatefulDStream, type BatchContext, type Definition, type StateBackend, type StateStore } from 'sluice/extend';
import { PendingBatch } from './pending-batch.js';
import { JoinBuffer, LEFT, RIGHT, type Buffered, type Side } from './join-buffer.js';
import type { JoinType, LateJoinRecord } from './join-options.js';
import { LateRecordsDStream } from './late-records.js';
import type { LatePolicy } from './window-options.js';
import { watermarkedStreams } from './with-watermark.js';

/*
 * Store layout: `L<key>` and `R<key>` hold a key's buffered records of each side (a `Buffered`),
 * `M` the operator's last watermark. <key> is the key codec's encoding.
 */
const WATERMARK_ROW = 'M';
const SIDE_PREFIX = ['L', 'R'] as const;

/** The checked settings of an interval join. */
export interface IntervalJoinSettings {
  readonly type: JoinType;
  readonly lower: number;
  readonly upper: number;
  readonly late: LatePolicy;
  readonly lateness: number;
}

/** An outer row waiting for its place in the batch's output. */
interface OuterRow {
  readonly key: Key;
  readonly code: string;
  readonly t: number;
  readonly value: unknown;
}

/**
 * The stream {@link intervalJoin} returns (see there for the semantics and the order of rows);
 * `lateRecords()` is its side output.
 */
export class IntervalJoinDStream<K extends Key, L, R, O> extends StatefulDStream<Pair<K, O>> {
  readonly #left: DStream<Pair<K, L>>;
  readonly #right: DStream<Pair<K, R>>;
  readonly #settings: IntervalJoinSettings;
  readonly #watermarkIds: readonly number[];
  readonly #buffer = new JoinBuffer();
  readonly #policy: ErrorPolicy;
  #loaded = false;
  /** The batch whose changes the buffer holds unsettled. */
  readonly #pending: PendingBatch;
  #late: { batchId: number; records: LateJoinRecord<K, L, R>[] } | undefined;
  #lateStream: DStream<LateJoinRecord<K, L, R>> | undefined;

  constructor(left: DStream<Pair<K, L>>, right: DStream<Pair<K, R>>, settings: IntervalJoinSettings, options: { readonly name: string | undefined; readonly stateBackend: StateBackend | undefined; readonly defined: Definition }) {
    super({ kind: 'intervalJoin', graph: left.graph, parents: [left, right], name: options.name, stateBackend: options.stateBackend, state: { config: { type: settings.type } } });
    this.#left = left;
    this.#right = right;
    this.#settings = settings;
    this.#watermarkIds = [...new Set([...watermarkedStreams(left as DStream<unknown>), ...watermarkedStreams(right as DStream<unknown>)].map((w) => w.id))];
    this.#policy = new ErrorPolicy(this, options.defined);
    this.#pending = new PendingBatch(this, this.#buffer);
  }

  override stateOf(entry: unknown): unknown {
    return entry;
  }

  /**
   * The records that arrived too late to join (event time below the watermark minus the allowed
   * lateness), each with its side, one batch per batch.
   *
   * @throws TypeError when the late policy is not `'sideOutput'`.
   */
  lateRecords(): DStream<LateJoinRecord<K, L, R>> {
    if (this.#settings.late !== 'sideOutput') throw new TypeError(`${this.describe}: lateRecords() needs the option late: 'sideOutput' (the policy is '${this.#settings.late}').`);
    this.#lateStream ??= new LateRecordsDStream(this, (batchId) => this.lateOf(batchId));
    return this.#lateStream;
  }

  /** @internal The late records of batch `batchId` (after the operator computed it). */
  lateOf(batchId: number): readonly LateJoinRecord<K, L, R>[] {
    return this.#late?.batchId === batchId ? this.#late.records : [];
  }

  protected override async compute(bc: BatchContext): Promise<Batch<Pair<K, O>>> {
    const [left, right] = await Promise.all([this.#left.getOrCompute(bc), this.#right.getOrCompute(bc)]);
    const store = this.store;
    await store.load([WATERMARK_ROW]);
    const last = store.get(WATERMARK_ROW) as number | undefined;
    this.#pending.open(bc.batchId);
    if (!this.#loaded) await this.#load(store);
    const planned = bc.watermarkOf(this.#watermarkIds);
    const watermark = planned === undefined ? last : Math.max(last ?? planned, planned);
    if (watermark !== undefined && watermark !== last) store.put(WATERMARK_ROW, watermark);
    // Records below `horizon` are late; state no record at or above it can match is evicted.
    const horizon = watermark === undefined ? Number.NEGATIVE_INFINITY : watermark - this.#settings.lateness;
    const out: Pair<K, unknown>[] = [];
    const late: LateJoinRecord<K, L, R>[] = [];
    const buffer = this.#buffer;
    try {
      if (left !== undefined) this.#each(left, bc, (key, t, l) => { if (t < horizon) late.push({ side: 'left', record: [key, l] }); else this.#addLeft(key, t, l, out); });
      if (right !== undefined) this.#each(right, bc, (key, t, r) => { if (t < horizon) late.push({ side: 'right', record: [key, r] }); else this.#addRight(key, t, r, out); });
      this.#evict(horizon, out);
    } catch (error) {
      throw this.#policy.failure(error);
    }
    this.#late = { batchId: bc.batchId, records: late };
    if (store.inMemory !== true) buffer.changes((side, key, buffered) => {
      const row = `${SIDE_PREFIX[side]}${encodeKey(key)}`;
      if (buffered === undefined) store.delete(row);
      else store.put(row, buffered);
    });
    this.reportState(bc, { lateRecordsDropped: this.#settings.late === 'drop' ? late.length : 0, stateRows: buffer.records });
    return Batch.of(out as Pair<K, O>[], bc.defaultParallelism);
  }

  /** Calls `visit` with every record of `batch` and its carried event time, in arrival order. */
  #each<V>(batch: Batch<Pair<K, V>>, bc: BatchContext, visit: (key: K, t: number, value: V) => void): void {
    batch.partitions.forEach((partition, p) => {
      const times = batch.eventTimes?.[p];
      if (times === undefined && partition.length > 0) throw new Error(`${this.describe}: an input batch carries no event times (a bug in the operator upstream).`);
      for (let i = 0; i < partition.length; i++) {
        const record = partition[i] as Pair<K, V>;
        if (this.#policy.onError !== 'fail') {
          try {
            hashKey(record[0]);
          } catch (error) {
            this.#policy.reject(bc.recordErrors, record, error);
            continue;
          }
        }
        visit(record[0], (times as Float64Array)[i] as number, record[1]);
      }
    });
  }

  /** Joins a left record with the right records buffered for its key, then buffers it. */
  #addLeft(key: K, t: number, l: L, out: Pair<K, unknown>[]): void {
    const { type, lower, upper } = this.#settings;
    const buffer = this.#buffer;
    const rights = buffer.get(RIGHT, key);
    let matched = 0;
    if (rights !== undefined) {
      const from = t + lower;
      const to = t + upper;
      const marks = type === 'rightOuter' || type === 'fullOuter';
      for (let i = 0; i < rights.t.length; i++) {
        const rt = rights.t[i] as number;
        if (rt < from || rt > to) continue;
        matched = 1;
        if (type === 'leftSemi') break;
        out.push([key, [l, rights.v[i]]]);
        if (marks && rights.m[i] === 0) buffer.mark(RIGHT, key, rights, i);
      }
    }
    if (type === 'leftSemi' && matched === 1) {
      // Emitted now; a matched left record has nothing left to do, so it is not buffered.
      out.push([key, l]);
      return;
    }
    buffer.add(LEFT, key, t, l, matched);
  }

  /** Joins a right record with the left records buffered for its key (this batch's too), then buffers it. */
  #addRight(key: K, t: number, r: R, out: Pair<K, unknown>[]): void {
    const { type, lower, upper } = this.#settings;
    const buffer = this.#buffer;
    const lefts = buffer.get(LEFT, key);
    let matched = 0;
    if (lefts !== undefined) {
      // left + lower <= t <= left + upper
      const from = t - upper;
      const to = t - lower;
      const marks = type !== 'inner';
      for (let i = 0; i < lefts.t.length; i++) {
        const lt = lefts.t[i] as number;
        if (lt < from || lt > to) continue;
        matched = 1;
        if (type === 'leftSemi') {
          if (lefts.m[i] === 0) out.push([key, lefts.v[i]]);
        } else {
          out.push([key, [lefts.v[i], r]]);
        }
        if (marks && lefts.m[i] === 0) buffer.mark(LEFT, key, lefts, i);
      }
    }
    buffer.add(RIGHT, key, t, r, matched);
  }

  /**
   * Evicts what no record at or above `horizon` can match: left records with `t + upper <
   * horizon`, right records with `t - lower < horizon`; outer rows for the unmatched ones of an
   * outer side, ordered by event time, then key (encoded), then arrival: left side first.
   */
  #evict(horizon: number, out: Pair<K, unknown>[]): void {
    if (horizon === Number.NEGATIVE_INFINITY) return;
    const { type, lower, upper } = this.#settings;
    const outer = (side: Side): boolean => type === 'fullOuter' || (side === LEFT ? type === 'leftOuter' : type === 'rightOuter');
    for (const side of [LEFT, RIGHT] as const) {
      const below = side === LEFT ? horizon - upper : horizon + lower;
      if (!outer(side)) {
        this.#buffer.evict(side, below, undefined);
        continue;
      }
      const rows: OuterRow[] = [];
      this.#buffer.evict(side, below, (key, t, value, matched) => { if (matched === 0) rows.push({ key, code: encodeKey(key), t, value }); });
      rows.sort((a, b) => a.t - b.t || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
      for (const row of rows) out.push([row.key as K, side === LEFT ? [row.value, null] : [null, row.value]]);
    }
  }

  /** Loads the buffered records from the store's rows at the first batch (a store in memory holds none: the buffer is the state). */
  async #load(store: StateStore): Promise<void> {
    const buffer = this.#buffer;
    buffer.clear();
    for await (const [row, value] of store.scan()) {
      const side = row[0] === 'L' ? LEFT : row[0] === 'R' ? RIGHT : undefined;
      if (side !== undefined) buffer.load(side, decodeKey(row.slice(1)), value as Buffered);
    }
    buffer.settle();
    this.#loaded = true;
  }
}
