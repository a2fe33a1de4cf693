import assert from 'node:assert/strict';
import type * as FastCheck from 'fast-check';
import { foreachBatch, type DStream, type DurationLike, type Pair, type StreamingContext } from 'sluice';
import { reduceByKeyAndWindow } from 'sluice/windows';
import { parsePositiveDuration } from 'sluice/extend';
import { batched, type FastCheckModule } from './generators.js';
import { runOptions, same, type Compare, type LawRunOptions } from './law-support.js';
import { runBatches } from './run-batches.js';

/*
 * Laws of operators, each a function of the user's fast-check module that returns an async
 * property: pass it to `fc.assert` (or `fc.check`), whose failure reports the seed, the path and
 * the shrunk counterexample, so `fc.assert(property, { seed, path })` replays it. No test runner
 * is imported: a broken law throws an `AssertionError` whose message starts with the law's name
 * and says what differed; fast-check attaches it as the `cause` of its own error.
 */

/** Options of {@link batchingInvariance} and {@link replayDeterminism}. */
export interface StreamLawOptions<T, U> extends LawRunOptions {
  /** Builds the stream under test on the input stream; called once per run. */
  readonly build: (input: DStream<T>) => DStream<U>;
  /** The input records; the law cuts them into batches. */
  readonly records: FastCheck.Arbitrary<readonly T[]>;
}

/**
 * Batching invariance, for per-record operators (map, filter, flatMap, and any chain of them):
 * however the input is cut into batches, the outputs, concatenated, are the output of the whole
 * input in one batch.
 *
 * @param options - `build`, `records`, and `compare` for the concatenated outputs.
 * @example await fc.assert(batchingInvariance(fc, { build: (s) => s.pipe(map(f)), records: fc.array(fc.integer()) }))
 */
export function batchingInvariance<T, U>(fc: FastCheckModule, options: StreamLawOptions<T, U> & { readonly compare?: Compare<U[]> }): FastCheck.IAsyncProperty<[T[][]]> {
  const { build, compare = assert.deepStrictEqual } = options;
  return fc.asyncProperty(batched(fc, options.records, options), async (batches) => {
    const whole = await runBatches([batches.flat()], build, runOptions(options));
    const cut = await runBatches(batches, build, runOptions(options));
    same(`batching invariance (the outputs over ${batches.length} batches, concatenated, against the output over one batch)`, cut.flat(), whole.flat(), compare);
  });
}

/**
 * Replay determinism: running the same input batches again gives the same output batches (what
 * recovery by replay relies on). Catches randomness, wall time, and state kept outside the job.
 *
 * @param options - `build`, `records`, `compare` for the per-batch outputs, `runs` (default 2).
 * @example await fc.assert(replayDeterminism(fc, { build: (s) => s.pipe(countByValue()), records: fc.array(fc.string()) }))
 */
export function replayDeterminism<T, U>(
  fc: FastCheckModule,
  options: StreamLawOptions<T, U> & { readonly compare?: Compare<U[][]>; readonly runs?: number },
): FastCheck.IAsyncProperty<[T[][]]> {
  const { build, compare = assert.deepStrictEqual, runs = 2 } = options;
  return fc.asyncProperty(batched(fc, options.records, options), async (batches) => {
    const first = await runBatches(batches, build, runOptions(options));
    for (let run = 1; run < runs; run++) {
      const again = await runBatches(batches, build, runOptions(options));
      same(`replay determinism (run ${run + 1} against run 1)`, again, first, compare);
    }
  });
}

/** Options of {@link inverseLaw}. */
export interface InverseLawOptions<V> {
  readonly reduce: (a: V, b: V) => V;
  readonly inverse: (a: V, b: V) => V;
  /** The values; `a` and `b` are each the reduction of one to four of them. */
  readonly values: FastCheck.Arbitrary<V>;
  readonly compare?: Compare<V>;
}

/**
 * The inverse-function law of windowed reductions: `inverse(reduce(a, b), b)` equals `a`, where
 * `a` and `b` are themselves reductions (a window and the batch that leaves it).
 *
 * @example await fc.assert(inverseLaw(fc, { reduce: (a, b) => a + b, inverse: (a, b) => a - b, values: fc.integer() }))
 */
export function inverseLaw<V>(fc: FastCheckModule, options: InverseLawOptions<V>): FastCheck.IAsyncProperty<[V[], V[]]> {
  const { reduce, inverse, compare = assert.deepStrictEqual } = options;
  const reduction = fc.array(options.values, { minLength: 1, maxLength: 4 });
  return fc.asyncProperty(reduction, reduction, (as, bs) => {
    const a = as.reduce(reduce);
    const b = bs.reduce(reduce);
    same('inverse law (inverse(reduce(a, b), b) against a)', inverse(reduce(a, b), b), a, compare);
    return Promise.resolve();
  });
}

/** Options of {@link incrementalEqualsRecomputed}. */
export interface IncrementalWindowOptions<V> extends LawRunOptions {
  readonly reduce: (a: V, b: V) => V;
  readonly inverse: (a: V, b: V) => V;
  /** The values of the `[key, value]` pairs. */
  readonly values: FastCheck.Arbitrary<V>;
  /** The window length and slide (default: the batch interval), multiples of the batch interval. */
  readonly length: DurationLike;
  readonly slide?: DurationLike;
  /** How many keys (`'k0'`, `'k1'`, ...; default 3). */
  readonly keys?: number;
  /** Passed to both operators (and applied to the reference): keeps only the pairs it accepts. */
  readonly filter?: (pair: Pair<string, V>) => boolean;
  /**
   * The value the incremental form leaves on a key whose values have all left the window
   * (`0` for a sum): such keys may stay with it. Without it (and without a `filter` that drops
   * them), the incremental window must have exactly the keys of the recomputed one.
   */
  readonly zero?: V;
  readonly compare?: Compare<Pair<string, V>[]>;
}

/** One emitted window: the batch it came in and its pairs sorted by key. */
interface Emission<V> {
  readonly batchId: number;
  readonly batchTime: number;
  readonly pairs: Pair<string, V>[];
}

/**
 * Incremental window = recomputed window, for `reduceByKeyAndWindow`: with `inverse` (the window
 * updated by what entered and what left) and without it (merged in full), every window equals a
 * brute-force reduction of the input pairs whose batch is in the window, `(t - length, t]`.
 *
 * @example
 * await fc.assert(incrementalEqualsRecomputed(fc, { reduce: (a, b) => a + b, inverse: (a, b) => a - b, values: fc.integer(), length: 3000, zero: 0 }))
 */
export function incrementalEqualsRecomputed<V>(fc: FastCheckModule, options: IncrementalWindowOptions<V>): FastCheck.IAsyncProperty<[Pair<string, V>[][]]> {
  const { reduce, filter, compare = assert.deepStrictEqual } = options;
  const lengthMs = parsePositiveDuration(options.length, 'length');
  const keys = Array.from({ length: options.keys ?? 3 }, (_, i) => `k${i}`);
  const pair = fc.tuple(fc.constantFrom(...keys), options.values).map(([k, v]): Pair<string, V> => [k, v]);
  const input = fc.array(fc.array(pair, { maxLength: 6 }), { minLength: 1, maxLength: options.maxBatches ?? 8 });
  const law = 'incremental = recomputed';
  return fc.asyncProperty(input, async (batches) => {
    const { incremental, recomputed, batchTimes } = await runWindows(batches, options, lengthMs);
    // The brute-force window at time t: the pairs of the input batches with times in (t - length, t].
    const reference = (t: number): Pair<string, V>[] => {
      const reduced = new Map<string, V>();
      for (const [k, batch] of batches.entries()) {
        const time = batchTimes[k] ?? Number.NaN;
        if (!(time > t - lengthMs && time <= t)) continue;
        for (const [key, v] of batch) reduced.set(key, reduced.has(key) ? reduce(reduced.get(key) as V, v) : v);
      }
      return byKey([...reduced].filter((p) => filter?.(p) ?? true));
    };
    same(`${law} (the batches that emitted a window)`, incremental.map((e) => e.batchId), recomputed.map((e) => e.batchId));
    for (const [i, full] of recomputed.entries()) {
      const expected = reference(full.batchTime);
      const inWindow = ([k]: Pair<string, V>): boolean => expected.some(([e]) => e === k);
      const inc = (incremental[i] as Emission<V>).pairs;
      const left = inc.filter((p) => !inWindow(p));
      same(`${law} (the window merged in full at batch ${full.batchId} against a brute-force reduction)`, full.pairs, expected, compare);
      same(`${law} (the window updated with the inverse at batch ${full.batchId} against a brute-force reduction)`, inc.filter(inWindow), expected, compare);
      same(`${law} (keys that left the window of batch ${full.batchId} keep the zero)`, left, options.zero === undefined ? [] : left.map(([k]): Pair<string, V> => [k, options.zero as V]), compare);
    }
  });
}

/** Runs reduceByKeyAndWindow with and without the inverse on the same input, until every value has left the windows. */
async function runWindows<V>(
  batches: readonly Pair<string, V>[][],
  options: IncrementalWindowOptions<V>,
  lengthMs: number,
): Promise<{ incremental: Emission<V>[]; recomputed: Emission<V>[]; batchTimes: number[] }> {
  const { reduce, inverse, length, slide } = options;
  const { batchInterval, numPartitions } = runOptions(options);
  const settings = options.filter === undefined ? {} : { filter: options.filter };
  const incremental: Emission<V>[] = [];
  const recomputed: Emission<V>[] = [];
  const batchTimes: number[] = [];
  const record = (into: Emission<V>[]) => foreachBatch<Pair<string, V>>((records, { batchId, batchTime }) => void into.push({ batchId, batchTime, pairs: byKey(records) }));
  const build = (s: DStream<Pair<string, V>>): DStream<Pair<string, V>> => {
    s.pipe(reduceByKeyAndWindow(reduce, inverse, length, slide, settings)).pipe(record(incremental));
    const full = s.pipe(reduceByKeyAndWindow(reduce, undefined, length, slide, settings));
    full.pipe(record(recomputed));
    return full;
  };
  const configure = (ctx: StreamingContext): void => {
    ctx.addListener((e) => {
      if (e.type === 'batchStarted') batchTimes[e.batchId] = e.batchTime;
    });
  };
  const numBatches = batches.length + Math.ceil(lengthMs / parsePositiveDuration(batchInterval, 'batchInterval'));
  await runBatches(batches, build, { batchInterval, numPartitions, numBatches, configure });
  return { incremental, recomputed, batchTimes };
}

/** Pairs sorted by key. */
function byKey<V>(pairs: readonly Pair<string, V>[]): Pair<string, V>[] {
  return [...pairs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
