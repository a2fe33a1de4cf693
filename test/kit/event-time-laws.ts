import assert from 'node:assert/strict';
import type * as FastCheck from 'fast-check';
import { foreachBatch, keyBy, type BatchProgress, type DStream, type DurationLike, type Pair } from 'sluice';
import { agg, eventTimeWindow, withWatermark, type Aggregator, type EventTimeWindowDStream, type EventTimeWindowOptions, type LatePolicy, type WindowAssigner, type WindowOutput } from 'sluice/windows';
import { parseDuration } from 'sluice/extend';
import { batched, keyedEvents, type FastCheckModule, type KeyedEvent } from './generators.js';
import { holds, progressInto, runOptions, type LawRunOptions } from './law-support.js';
import { runBatches } from './run-batches.js';

/** Options of {@link watermarkMonotonicity}. */
export interface WatermarkLawOptions<V> extends LawRunOptions {
  /** The watermark delay (ms or `'10s'`) of `withWatermark((e) => e.time, delay)`, applied to the input. */
  readonly delay: DurationLike;
  /** The events (default: 3 keys, disorder up to `delay`, 10% late, 10% duplicated). */
  readonly events?: FastCheck.Arbitrary<readonly KeyedEvent<V>[]>;
  /** What follows the watermark (default: nothing; the watermarked stream is the output). */
  readonly build?: (watermarked: DStream<KeyedEvent<V>>) => DStream<unknown>;
  /** Empty batches run after the input (default 2). */
  readonly extraBatches?: number;
}

/**
 * Watermark monotonicity: the watermark of the batches' progress events never decreases, never
 * goes back to none once set, and never passes the largest event time of the earlier batches
 * minus the delay.
 *
 * @example await fc.assert(watermarkMonotonicity(fc, { delay: 20, build: (s) => s.pipe(keyBy((e) => e.key), eventTimeWindow(tumbling(10), count())) }))
 */
export function watermarkMonotonicity<V = number>(fc: FastCheckModule, options: WatermarkLawOptions<V>): FastCheck.IAsyncProperty<[KeyedEvent<V>[][]]> {
  const { extraBatches = 2 } = options;
  const delay = parseDuration(options.delay, 'watermarkMonotonicity delay');
  const build = options.build ?? ((s: DStream<KeyedEvent<V>>): DStream<unknown> => s);
  const events = options.events ?? (keyedEvents(fc, { keys: 3, maxDisorder: delay, lateFraction: 0.1, duplicateFraction: 0.1 }) as unknown as FastCheck.Arbitrary<KeyedEvent<V>[]>);
  return fc.asyncProperty(batched(fc, events, options), async (batches) => {
    const progress: BatchProgress[] = [];
    await runBatches(batches, (s: DStream<KeyedEvent<V>>) => build(s.pipe(withWatermark((e: KeyedEvent<V>) => e.time, delay))), {
      ...runOptions(options),
      numBatches: batches.length + extraBatches,
      configure: progressInto(progress),
    });
    let maxSeen = Number.NEGATIVE_INFINITY;
    let previous: number | undefined;
    for (const [k, { watermark }] of progress.entries()) {
      holds(`watermark monotonicity (batch ${k}: watermark ${watermark}, the batch before ${previous})`, () => {
        if (previous !== undefined) assert.ok(watermark !== undefined && watermark >= previous, 'the watermark went back');
        if (watermark !== undefined) assert.ok(watermark <= maxSeen - delay, `the watermark passed the largest earlier event time (${maxSeen}) minus the delay (${delay})`);
      });
      previous = watermark;
      for (const e of batches[k] ?? []) maxSeen = Math.max(maxSeen, e.time);
    }
  });
}

/** An event with its position in the whole input: duplicates are told apart by it. */
export interface Arrival<V> {
  readonly seq: number;
  readonly event: KeyedEvent<V>;
}

/**
 * An event-time window operator with the signature of `eventTimeWindow` (for wrapping it). Its
 * stream may emit retractions (`WindowOutput`), though in append mode, the law's, it must not.
 */
export type WindowOperator = <V>(
  assigner: WindowAssigner,
  aggregator: Aggregator<V, V[], V[]>,
  options: EventTimeWindowOptions<V>,
) => (stream: DStream<Pair<string, V>>) => EventTimeWindowDStream<string, V, V[], WindowOutput<string, V[]>>;

/** Options of {@link lateDataAccounting}. */
export interface LateDataLawOptions<V> extends LawRunOptions {
  readonly assigner: WindowAssigner;
  /** The watermark delay (ms or `'10s'`, default 10 ms). */
  readonly delay?: DurationLike;
  /** Allowed lateness (ms, default 0). */
  readonly allowedLateness?: DurationLike;
  /** The late policy (default: both, generated). */
  readonly late?: LatePolicy;
  /** The events (default: 3 keys, disorder up to twice the delay, 20% late, 10% duplicated). */
  readonly events?: FastCheck.Arbitrary<readonly KeyedEvent<V>[]>;
  /** The window operator under test (default `eventTimeWindow`). */
  readonly operator?: WindowOperator;
}

/** The key of the record the law adds to close every window; no generated key equals it. */
const FLUSH_KEY = '\u0000sluice-testing-flush';
/** How far past the last event the flush record is: past any window, calendar months and years included. */
const FLUSH_AFTER = 400 * 24 * 3_600_000;

/**
 * Late-data accounting, for an event-time window in append mode: after a last record that
 * closes every window, each input record (duplicates each on their own) is in the results of
 * its windows, or late in the batch it arrived in: then counted in that batch's
 * `lateRecordsDropped` (`late: 'drop'`) or in that batch of `lateRecords()` (`'sideOutput'`),
 * never both. No window is emitted twice, and each holds only its key's records in its bounds.
 *
 * @example await fc.assert(lateDataAccounting(fc, { assigner: sliding(20, 5), delay: 10 }))
 */
export function lateDataAccounting<V = number>(
  fc: FastCheckModule,
  options: LateDataLawOptions<V>,
): FastCheck.IAsyncProperty<[KeyedEvent<V>[][], LatePolicy]> {
  const { assigner } = options;
  const operator: WindowOperator = options.operator ?? eventTimeWindow;
  const delay = parseDuration(options.delay ?? 10, 'lateDataAccounting delay');
  const allowedLateness = parseDuration(options.allowedLateness ?? 0, 'lateDataAccounting allowedLateness');
  const events = options.events ?? (keyedEvents(fc, { keys: 3, maxDisorder: 2 * delay, lateFraction: 0.2, duplicateFraction: 0.1 }) as unknown as FastCheck.Arbitrary<KeyedEvent<V>[]>);
  const policy = options.late === undefined ? fc.constantFrom<LatePolicy>('drop', 'sideOutput') : fc.constant(options.late);
  return fc.asyncProperty(batched(fc, events, options), policy, async (batches, late) => {
    let seq = 0;
    const input: Arrival<V>[][] = batches.map((batch) => batch.map((event) => ({ seq: seq++, event })));
    const last = Math.max(0, ...batches.flat().map((e) => e.time));
    input.push([{ seq: -1, event: { key: FLUSH_KEY, time: last + delay + allowedLateness + FLUSH_AFTER, value: undefined as V, id: -1 } }]);
    const progress: BatchProgress[] = [];
    const sideOutput: Arrival<V>[][] = [];
    const results = await runBatches(
      input,
      (s: DStream<Arrival<V>>) => {
        const windowed = s.pipe(
          withWatermark((a: Arrival<V>) => a.event.time, delay),
          keyBy((a: Arrival<V>) => a.event.key),
          operator<Arrival<V>>(assigner, agg.collect<Arrival<V>>(), { late, allowedLateness, outputMode: 'append' }),
        );
        if (late === 'sideOutput') windowed.lateRecords().pipe(foreachBatch((records, { batchId }) => void (sideOutput[batchId] = records.map(([, a]) => a))));
        return windowed;
      },
      { ...runOptions(options), numBatches: input.length + 1, configure: progressInto(progress) },
    );
    checkLateRecords(input.slice(0, -1), checkResults(results.flat()), late, progress, sideOutput);
  });
}

/**
 * Checks that the records of each input batch that are in no result are exactly its late ones:
 * as many as its progress event dropped, or its batch of the side output.
 */
function checkLateRecords<V>(input: readonly Arrival<V>[][], placed: Set<number>, late: LatePolicy, progress: readonly BatchProgress[], sideOutput: readonly Arrival<V>[][]): void {
  for (const [k, batch] of input.entries()) {
    const absent = batch.filter((a) => !placed.has(a.seq)).map((a) => a.seq);
    const dropped = progress[k]?.lateRecordsDropped;
    const side = (sideOutput[k] ?? []).map((a) => a.seq).sort((a, b) => a - b);
    holds(`late-data accounting (batch ${k} of ${input.length}: ${batch.length} records, ${absent.length} in no result, ${dropped} dropped, side output ${JSON.stringify(side)})`, () => {
      if (late === 'drop') assert.equal(dropped, absent.length, `the records in no result are ${JSON.stringify(absent)}`);
      else assert.deepEqual([side, dropped], [absent, 0], 'the side output must hold exactly the records in no result, and nothing be dropped');
    });
  }
}

/** Checks every emitted window and returns the `seq` of every record in one. */
function checkResults<V>(results: readonly WindowOutput<string, Arrival<V>[]>[]): Set<number> {
  const placed = new Set<number>();
  const windows = new Set<string>();
  for (const result of results) {
    const { key, window } = result;
    const id = `${JSON.stringify(key)} [${window.start}, ${window.end})`;
    assert.ok(!('retracted' in result), `late-data accounting: the window ${id} was retracted in append mode`);
    const { value } = result;
    assert.ok(!windows.has(id), `late-data accounting: the window ${id} was emitted twice in append mode`);
    windows.add(id);
    for (const { seq, event } of value) {
      assert.ok(event.key === key && window.start <= event.time && event.time < window.end, `late-data accounting: record ${seq} (${JSON.stringify(event)}) is in the window ${id}`);
      placed.add(seq);
    }
  }
  return placed;
}
