import type { DStream, Key, OnError, Pair } from 'sluice';
import { definition, type StateBackend } from 'sluice/extend';
import { positiveInteger, seedOf } from './decay.js';
import { LinearState, type LabeledPoint, type SgdSettings } from './linear-model.js';
import { predictionStream } from './prediction-dstream.js';
import { NOT_A_PAIR, predictDefinition, valueOf, type PredictFeaturesOptions, type PredictOptions } from './predict-options.js';
import { trainerSlot, type Learner, type ModelStream } from './training-dstream.js';
import { checkVectorOption, vectorProblem, type Vector } from './vector.js';

/** Options of {@link streamingLinearRegression}. */
export interface StreamingLinearRegressionOptions {
  /** The number of features. */
  readonly dimensions: number;
  /** The SGD step size (the learning rate of step i is `stepSize / sqrt(i)`; default 0.1, as Spark's). */
  readonly stepSize?: number;
  /** Gradient steps per batch (default 50, as Spark's). */
  readonly numIterations?: number;
  /** The fraction of the batch each step samples, in (0, 1] (default 1: every point). */
  readonly miniBatchFraction?: number;
  /** A batch stops stepping when a step moves the weights by less than this times their norm (default 0.001, as Spark's; 0 never stops early). */
  readonly convergenceTol?: number;
  /** The weights to start from (`dimensions` numbers; default zeros). */
  readonly initialWeights?: readonly number[];
  /** Whether to fit an intercept (a constant term, starting at 0; default false, as Spark's). */
  readonly intercept?: boolean;
  /** Seeds the mini-batch sampling together with the batch time (a 32-bit integer, default 0). */
  readonly seed?: number;
  /** The training operator's stable name: the model is stored and queried under it (default `streamingLinearRegression#n`). */
  readonly name?: string;
  /** What training and prediction do with a bad record (not a labeled point of `dimensions` finite features, or a vector to score): see `OnError`. */
  readonly onError?: OnError;
  /** Keeps the model on this backend rather than the context's (not with a checkpoint). */
  readonly stateBackend?: StateBackend;
}

/** A linear model as published: stored, queried and emitted by `trainOn`. */
export interface LinearRegressionModel {
  readonly weights: readonly number[];
  /** The intercept (0 when the model fits none). */
  readonly intercept: number;
}

/** A scored record and its predicted value. */
export interface RegressionPrediction<R = Vector> {
  /** The record scored: the vector, or the record `features` read the vector from. */
  readonly point: R;
  readonly prediction: number;
}

/** A streaming linear regression bound to one training stream (see {@link streamingLinearRegression}). */
export interface StreamingLinearRegression {
  /**
   * Trains on a stream of labeled points, once per batch; the stream it returns emits the model
   * after each batch (one record) and is what `queryableState` reads (`.get('model')`). Adds an
   * output of its own, so it trains whether or not anything reads it.
   *
   * @throws TypeError when called a second time.
   */
  trainOn(): <V extends Vector>(stream: DStream<LabeledPoint<V>>) => ModelStream<LinearRegressionModel>;
  /**
   * Predicts each vector's value with the model as of the previous batch (trained on batches 0 to
   * n-1; the initial weights in batch 0).
   *
   * @throws TypeError before `trainOn` has been applied.
   */
  predictOn(options?: PredictOptions): <V extends Vector>(stream: DStream<V>) => DStream<RegressionPrediction<V>>;
  /** {@link StreamingLinearRegression.predictOn} over records of any type, scoring the vector `features` reads from each. */
  predictOn<R>(options: PredictFeaturesOptions<R>): (stream: DStream<R>) => DStream<RegressionPrediction<R>>;
  /** {@link StreamingLinearRegression.predictOn} for `[key, vector]` pairs: `[key, prediction]`. */
  predictOnValues(options?: PredictOptions): <K extends Key, V extends Vector>(stream: DStream<Pair<K, V>>) => DStream<Pair<K, number>>;
}

/**
 * Streaming linear regression with SGD (Spark MLlib's `StreamingLinearRegressionWithSGD`): fits
 * `label ≈ w · features (+ b)` to a stream of labeled points, running mini-batch gradient descent
 * on each batch from the weights the previous batch left, the model kept as state (checkpointed,
 * exactly-once; a replayed batch gives the identical weights: its sampling is seeded by `seed` and
 * the batch time, its points folded partition by partition in order). The same shape as
 * `streamingKMeans`: one model object, its `trainOn`, `predictOn` and `predictOnValues` operators.
 *
 * @throws RangeError for a bad `dimensions`, `stepSize`, `numIterations`, `miniBatchFraction`,
 * `convergenceTol` or `seed`; TypeError for `initialWeights` of the wrong length, a bad
 * `intercept` or `onError`. While running: SluiceError `USER_FUNCTION_FAILED` (under `'fail'`)
 * for a bad record; `STATE_IO_FAILED`/`STATE_CORRUPT` from the model's store.
 * @example
 * const model = streamingLinearRegression({ dimensions: 3, stepSize: 0.5, intercept: true, name: 'price' });
 * sales.pipe(map((s) => ({ label: s.price, features: [s.area, s.rooms, s.age] })), model.trainOn());
 * offers.pipe(map((o) => [o.area, o.rooms, o.age]), model.predictOn(), print());
 */
export function streamingLinearRegression(options: StreamingLinearRegressionOptions): StreamingLinearRegression {
  const kind = 'streamingLinearRegression';
  if (typeof options !== 'object' || options === null) throw new TypeError(`${kind}: pass the options, such as { dimensions: 3 }.`);
  const d = positiveInteger(kind, 'dimensions', options.dimensions, 'the number of features');
  const settings = sgdSettings(kind, options);
  const intercept = options.intercept ?? false;
  if (typeof intercept !== 'boolean') throw new TypeError(`${kind}: intercept must be true or false, got ${typeof intercept}.`);
  const initialWeights = options.initialWeights === undefined ? new Float64Array(d) : checkVectorOption(kind, 'initialWeights', options.initialWeights, d);
  const start = new Float64Array(d + (intercept ? 1 : 0));
  start.set(initialWeights);
  const initial = new LinearState(d, intercept, start);
  const defined = definition(kind, options);
  const vectorOk = (v: unknown): string | undefined => vectorProblem(v, d);
  const learner: Learner<LinearState, LinearRegressionModel, LabeledPoint> = {
    kind,
    config: { dimensions: d, intercept },
    initial: () => initial,
    problem: (point) => labeledProblem(point, vectorOk),
    train: (model, partitions, batchTime) => (model ?? initial).train(partitions, settings, batchTime),
    publish: (model) => ({ weights: Array.from(model.weights.subarray(0, d)), intercept: intercept ? (model.weights[d] as number) : 0 }),
    restore: (published) => {
      const w = new Float64Array(d + (intercept ? 1 : 0));
      w.set(published.weights);
      if (intercept) w[d] = published.intercept;
      return new LinearState(d, intercept, w);
    },
  };
  const { trainOn, trained } = trainerSlot(kind, learner, options, defined);
  return {
    trainOn: () => trainOn,
    predictOn: ((predict: PredictOptions & { readonly features?: (record: unknown) => Vector } = {}) => {
      const { defined: how, vectorOf } = predictDefinition('predictOn', predict, options.onError);
      return (stream: DStream<unknown>) =>
        predictionStream<LinearState, unknown, RegressionPrediction<unknown>>('predictOn', trained(), stream, { vectorOf, problem: vectorOk, predict: (model, point, vector) => ({ point, prediction: (model ?? initial).predict(vector as Vector) }) }, how, predict.name);
    }) as StreamingLinearRegression['predictOn'],
    predictOnValues: (predict = {}) => {
      const { defined: how } = predictDefinition('predictOnValues', predict, options.onError);
      return <K extends Key, V extends Vector>(stream: DStream<Pair<K, V>>) =>
        predictionStream<LinearState, Pair<K, V>, Pair<K, number>>('predictOnValues', trained(), stream, { vectorOf: valueOf, problem: (v) => (v === NOT_A_PAIR ? 'expected a [key, vector] pair' : vectorOk(v)), predict: (model, [key], vector) => [key, (model ?? initial).predict(vector as Vector)] }, how, predict.name);
    },
  };
}

function labeledProblem(point: unknown, vectorOk: (v: unknown) => string | undefined): string | undefined {
  if (typeof point !== 'object' || point === null) return `expected a labeled point { label, features }, got ${point === null ? 'null' : typeof point}`;
  const { label, features } = point as Partial<LabeledPoint>;
  if (typeof label !== 'number' || !Number.isFinite(label)) return `expected a finite label, got ${String(label)}`;
  return vectorOk(features);
}

function sgdSettings(kind: string, options: StreamingLinearRegressionOptions): SgdSettings {
  const { stepSize = 0.1, numIterations = 50, miniBatchFraction = 1, convergenceTol = 0.001 } = options;
  if (typeof stepSize !== 'number' || !(stepSize > 0) || !Number.isFinite(stepSize)) throw new RangeError(`${kind}: stepSize must be a positive finite number (try 0.1, smaller if the weights diverge), got ${String(stepSize)}.`);
  positiveInteger(kind, 'numIterations', numIterations, 'gradient steps per batch');
  if (typeof miniBatchFraction !== 'number' || !(miniBatchFraction > 0 && miniBatchFraction <= 1)) throw new RangeError(`${kind}: miniBatchFraction must be in (0, 1] (1 uses every point of a batch), got ${String(miniBatchFraction)}.`);
  if (typeof convergenceTol !== 'number' || !(convergenceTol >= 0) || !Number.isFinite(convergenceTol)) throw new RangeError(`${kind}: convergenceTol must be a finite number >= 0 (0 always runs numIterations steps), got ${String(convergenceTol)}.`);
  return { stepSize, numIterations, miniBatchFraction, convergenceTol, seed: seedOf(kind, options.seed) };
}
