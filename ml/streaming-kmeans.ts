import type { DStream, Key, OnError, Pair } from 'sluice';
import { definition, type StateBackend } from 'sluice/extend';
import { decayOf, positiveInteger, seedOf, type HalfLife } from './decay.js';
import { KMeansState, kMeansPlusPlus } from './kmeans-model.js';
import { NOT_A_PAIR, predictDefinition, valueOf, type PredictFeaturesOptions, type PredictOptions } from './predict-options.js';
import { predictionStream } from './prediction-dstream.js';
import { trainerSlot, type Learner, type ModelStream } from './training-dstream.js';
import { checkVectorOption, vectorProblem, type Vector } from './vector.js';

/** Options of {@link streamingKMeans}. */
export interface StreamingKMeansOptions {
  /** The number of clusters. */
  readonly k: number;
  /** The length of every vector. */
  readonly dimensions: number;
  /**
   * How much of the model's past each batch keeps, from 0 (only the latest batch counts) to 1
   * (every batch counts alike; the default). Or give {@link StreamingKMeansOptions.halfLife}.
   */
  readonly decayFactor?: number;
  /** How fast the model forgets, as a half-life in batches or in points (instead of `decayFactor`). */
  readonly halfLife?: HalfLife;
  /** The centers to start from (`k` vectors); otherwise k-means++ seeding on the first batch with at least `k` points. */
  readonly initialCenters?: readonly Vector[];
  /** The weights of `initialCenters` (the points they stand for; default 0 each, so the first batch's points replace them). */
  readonly initialWeights?: readonly number[];
  /** The seed of the k-means++ seeding (a 32-bit integer, default 0); not with `initialCenters`. */
  readonly seed?: number;
  /** The training operator's stable name: the model is stored and queried under it (default `streamingKMeans#n`). */
  readonly name?: string;
  /**
   * What training and prediction do with a record that is not a vector of `dimensions` finite
   * numbers: `'fail'` the batch, `'skip'` it (counted) or `'deadLetter'` it (default: the context's `onError`).
   */
  readonly onError?: OnError;
  /** Keeps the model on this backend rather than the context's (not with a checkpoint). */
  readonly stateBackend?: StateBackend;
}

/** A k-means model as published: stored, queried (`queryableState`, `sluice state`) and emitted by `trainOn`. */
export interface KMeansModel {
  /** The `k` centers. */
  readonly centers: readonly (readonly number[])[];
  /** Each center's weight: the decayed number of points behind it. */
  readonly weights: readonly number[];
}

/** Which cluster a vector belongs to, by the model as of the previous batch. */
export interface KMeansAssignment {
  /** The index of the nearest center; -1 while the model has no centers yet (k-means++ seeding waits for a batch of `k` points). */
  readonly cluster: number;
  /** The Euclidean distance to that center (an anomaly score); `NaN` while the model has no centers. */
  readonly distance: number;
}

/** A scored record and its {@link KMeansAssignment}. */
export interface KMeansPrediction<R = Vector> extends KMeansAssignment {
  /** The record scored: the vector, or the record `features` read the vector from. */
  readonly point: R;
}

/**
 * A streaming k-means model bound to one stream of training vectors. Apply its operators with
 * `pipe`: first {@link StreamingKMeans.trainOn} on the training stream, then
 * {@link StreamingKMeans.predictOn} (or `predictOnValues`) on the streams to score.
 */
export interface StreamingKMeans {
  /**
   * Trains the model on a stream of vectors, once per batch; the stream it returns emits the model
   * after each batch (one record, none while there is no model) and is what `queryableState` reads
   * (`queryableState(trained).get('model')`). The model trains every batch even if nothing reads
   * the stream (it adds an output of its own, `trainOn#n`).
   *
   * @throws TypeError when called a second time (one model, one training stream).
   */
  trainOn(): <V extends Vector>(stream: DStream<V>) => ModelStream<KMeansModel>;
  /**
   * Scores each vector with the model as of the previous batch: in batch n, the model trained on
   * batches 0 to n-1 (the initial centers, or none, in batch 0), never on the batch being scored.
   *
   * @throws TypeError before `trainOn` has been applied.
   */
  predictOn(options?: PredictOptions): <V extends Vector>(stream: DStream<V>) => DStream<KMeansPrediction<V>>;
  /** {@link StreamingKMeans.predictOn} over records of any type, scoring the vector `features` reads from each. */
  predictOn<R>(options: PredictFeaturesOptions<R>): (stream: DStream<R>) => DStream<KMeansPrediction<R>>;
  /** {@link StreamingKMeans.predictOn} for `[key, vector]` pairs: `[key, assignment]`, the key kept. */
  predictOnValues(options?: PredictOptions): <K extends Key, V extends Vector>(stream: DStream<Pair<K, V>>) => DStream<Pair<K, KMeansAssignment>>;
}

/**
 * Streaming k-means (Spark MLlib's `StreamingKMeans`): clusters a stream of vectors, updating `k`
 * centers once per batch by the mini-batch rule with forgetfulness, the model kept as state
 * (checkpointed, exactly-once, restored on restart: a replayed batch gives the identical model).
 *
 * The shape: the model is an object with three operators, because training and prediction are
 * two streams that share one piece of state, and a stream can be scored that is not the one
 * trained on (Spark's `trainOn`/`predictOn`). Every choice is deterministic: k-means++ seeding
 * from `seed`, points folded partition by partition in order, ties to the lowest index.
 *
 * Each batch: every point goes to its nearest center (by the model before the batch); every
 * weight is discounted by the decay factor (`halfLife` h gives `0.5 ** (1 / h)`: once per batch,
 * or per point with unit `'points'`); each center that got m points of mean x moves to
 * `(c * w + x * m) / (w + m)` for its discounted weight w, which becomes `w + m`; a cluster whose
 * weight falls under 1e-8 of the heaviest's is replaced by splitting the heaviest in two. Without
 * `initialCenters`, the first batch with at least `k` valid points picks the centers (greedy k-means++)
 * and trains on them; batches before it are not learnt from.
 *
 * @throws RangeError for a bad `k`, `dimensions`, `decayFactor`, `halfLife.value` or `seed`;
 * TypeError for both `decayFactor` and `halfLife`, both `initialCenters` and `seed`, initial
 * centers or weights of the wrong count or dimension, a bad `onError`. While running: SluiceError
 * `USER_FUNCTION_FAILED` (under `onError: 'fail'`) for a record that is not a vector of
 * `dimensions` finite numbers; `STATE_IO_FAILED`/`STATE_CORRUPT` from the model's store.
 * @example
 * const model = streamingKMeans({ k: 3, dimensions: 2, halfLife: { value: 10, unit: 'batches' }, seed: 7, name: 'clusters' });
 * const trained = points.pipe(model.trainOn());
 * points.pipe(model.predictOn(), foreachBatch((scored) => { for (const s of scored) if (s.distance > 5) alert(s.point); }));
 * const centers = (await queryableState(trained).get('model'))?.centers;
 */
export function streamingKMeans(options: StreamingKMeansOptions): StreamingKMeans {
  const kind = 'streamingKMeans';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${kind}: pass the options, such as { k: 3, dimensions: 2 }.`);
  const k = positiveInteger(kind, 'k', options.k, 'the number of clusters');
  const d = positiveInteger(kind, 'dimensions', options.dimensions, 'the length of every vector');
  const decay = decayOf(kind, options.decayFactor, options.halfLife);
  if (options.initialCenters !== undefined && options.seed !== undefined) throw new TypeError(`${kind}: pass initialCenters or seed, not both (seed picks the first centers by k-means++).`);
  if (options.initialWeights !== undefined && options.initialCenters === undefined) throw new TypeError(`${kind}: initialWeights go with initialCenters.`);
  const seed = seedOf(kind, options.seed);
  const initial = options.initialCenters === undefined ? undefined : initialState(kind, options.initialCenters, options.initialWeights, k, d);
  const defined = definition(kind, options);
  const problem = (v: unknown): string | undefined => vectorProblem(v, d);
  const learner: Learner<KMeansState, KMeansModel, Vector> = {
    kind,
    config: { k, dimensions: d },
    initial: () => initial,
    problem,
    train(model, partitions) {
      if (model !== undefined) return model.update(partitions, decay.factor, decay.unit);
      let count = 0;
      for (const partition of partitions) count += partition.length;
      if (count < k) return undefined;
      return kMeansPlusPlus(partitions.flat(), k, d, seed).update(partitions, decay.factor, decay.unit);
    },
    publish: (model) => ({ centers: Array.from({ length: k }, (_, j) => Array.from(model.centers.subarray(j * d, (j + 1) * d))), weights: Array.from(model.weights) }),
    restore: (published) => new KMeansState(k, d, Float64Array.from(published.centers.flat()), Float64Array.from(published.weights)),
  };
  const { trainOn, trained } = trainerSlot(kind, learner, options, defined);
  const assign = (model: KMeansState | undefined, vector: Vector): KMeansAssignment => {
    if (model === undefined) return { cluster: -1, distance: Number.NaN };
    const cluster = model.nearest(vector);
    return { cluster, distance: Math.sqrt(model.lastSquaredDistance) };
  };
  return {
    trainOn: () => trainOn,
    predictOn: ((predict: PredictOptions & { readonly features?: (record: unknown) => Vector } = {}) => {
      const { defined: how, vectorOf } = predictDefinition('predictOn', predict, options.onError);
      return (stream: DStream<unknown>) =>
        predictionStream<KMeansState, unknown, KMeansPrediction<unknown>>('predictOn', trained(), stream, {
          vectorOf,
          problem,
          predict(model, point, vector) {
            if (model === undefined) return { point, cluster: -1, distance: Number.NaN };
            const cluster = model.nearest(vector as Vector);
            return { point, cluster, distance: Math.sqrt(model.lastSquaredDistance) };
          },
        }, how, predict.name);
    }) as StreamingKMeans['predictOn'],
    predictOnValues: (predict = {}) => {
      const { defined: how } = predictDefinition('predictOnValues', predict, options.onError);
      return <K extends Key, V extends Vector>(stream: DStream<Pair<K, V>>) =>
        predictionStream<KMeansState, Pair<K, V>, Pair<K, KMeansAssignment>>('predictOnValues', trained(), stream, { vectorOf: valueOf, problem: (v) => (v === NOT_A_PAIR ? 'expected a [key, vector] pair' : problem(v)), predict: (model, [key], vector) => [key, assign(model, vector as Vector)] }, how, predict.name);
    },
  };
}

function initialState(kind: string, centers: readonly Vector[], weights: readonly number[] | undefined, k: number, d: number): KMeansState {
  if (!Array.isArray(centers) || centers.length !== k) throw new TypeError(`${kind}: initialCenters must be k = ${k} vectors, got ${Array.isArray(centers) ? centers.length : typeof centers}.`);
  const flat = new Float64Array(k * d);
  centers.forEach((center, j) => {
    flat.set(checkVectorOption(kind, `initialCenters[${j}]`, center, d), j * d);
  });
  const w = weights === undefined ? new Float64Array(k) : checkVectorOption(kind, 'initialWeights', weights, k);
  if (w.some((x) => x < 0)) throw new RangeError(`${kind}: initialWeights must not be negative.`);
  return new KMeansState(k, d, flat, w);
}
