import { SeededRandom } from './seeded-random.js';
import type { Vector } from './vector.js';

/** A labeled training example of a regression: the features and the value to predict. */
export interface LabeledPoint<V extends Vector = Vector> {
  readonly label: number;
  readonly features: V;
}

/** The settings of the mini-batch gradient descent each batch runs. */
export interface SgdSettings {
  readonly stepSize: number;
  readonly numIterations: number;
  readonly miniBatchFraction: number;
  readonly convergenceTol: number;
  readonly seed: number;
}

/**
 * The working form of a linear model: `dimensions` weights, then, when it fits an intercept, the
 * intercept (the weight of a constant feature 1). Never changed once built.
 */
export class LinearState {
  readonly dimensions: number;
  readonly intercept: boolean;
  /** `dimensions` weights, and the intercept last when `intercept`. */
  readonly weights: Float64Array;

  constructor(dimensions: number, intercept: boolean, weights: Float64Array) {
    this.dimensions = dimensions;
    this.intercept = intercept;
    this.weights = weights;
  }

  /** The model's prediction for `features`: `w · x + b`. */
  predict(features: Vector): number {
    const { dimensions: d, weights: w } = this;
    let sum = this.intercept ? (w[d] as number) : 0;
    for (let i = 0; i < d; i++) sum += (w[i] as number) * (features[i] as number);
    return sum;
  }

  /**
   * The model after one batch (Spark's streaming linear regression with SGD): from these weights,
   * `numIterations` steps of mini-batch gradient descent on the squared error; step i samples each
   * point with probability `miniBatchFraction` (a generator seeded by seed, batch time and i), and
   * moves the weights by `-(stepSize / sqrt(i))` times the mean gradient `(w · x + b - y) x` of the
   * sample. It stops early when a step moves the weights by less than `convergenceTol` times their
   * norm (at least 1), from the second step on. Points are folded partition by partition, in order.
   */
  train(partitions: readonly (readonly LabeledPoint[])[], settings: SgdSettings, batchTime: number): LinearState {
    let points = 0;
    for (const partition of partitions) points += partition.length;
    if (points === 0) return this;
    const { dimensions: d, intercept } = this;
    const w = Float64Array.from(this.weights);
    const gradient = new Float64Array(w.length);
    const sample = settings.miniBatchFraction < 1;
    for (let iteration = 1; iteration <= settings.numIterations; iteration++) {
      gradient.fill(0);
      let count = 0;
      const random = sample ? new SeededRandom(settings.seed, batchTime, iteration) : undefined;
      for (const partition of partitions) {
        for (let p = 0; p < partition.length; p++) {
          if (random !== undefined && random.next() >= settings.miniBatchFraction) continue;
          const { label, features } = partition[p] as LabeledPoint;
          let error = intercept ? (w[d] as number) - label : -label;
          for (let i = 0; i < d; i++) error += (w[i] as number) * (features[i] as number);
          for (let i = 0; i < d; i++) gradient[i] = (gradient[i] as number) + error * (features[i] as number);
          if (intercept) gradient[d] = (gradient[d] as number) + error;
          count++;
        }
      }
      if (count === 0) continue;
      const step = settings.stepSize / Math.sqrt(iteration) / count;
      let moved = 0;
      let norm = 0;
      for (let i = 0; i < w.length; i++) {
        const delta = step * (gradient[i] as number);
        const next = (w[i] as number) - delta;
        w[i] = next;
        moved += delta * delta;
        norm += next * next;
      }
      if (iteration > 1 && Math.sqrt(moved) < settings.convergenceTol * Math.max(Math.sqrt(norm), 1)) break;
    }
    return new LinearState(d, intercept, w);
  }
}
