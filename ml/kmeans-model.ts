import { SeededRandom } from './seeded-random.js';
import type { Vector } from './vector.js';

/** How the weights of what a model has learnt decay: per batch, or per point (the factor to the power of the batch's points). */
export type DecayUnit = 'batches' | 'points';

/** A cluster whose weight falls below this fraction of the heaviest one's is dying: the heaviest is split to replace it. */
const DYING = 1e-8;

/**
 * The working form of a streaming k-means model: `k` centers of `dimensions` coordinates in one
 * row-major `Float64Array`, and each center's weight (the decayed number of points behind it).
 * Never changed once built: training makes a new one.
 */
export class KMeansState {
  readonly k: number;
  readonly dimensions: number;
  readonly centers: Float64Array;
  readonly weights: Float64Array;
  /** The squared distance of the last {@link KMeansState.nearest} call's vector to its center. */
  lastSquaredDistance = 0;

  constructor(k: number, dimensions: number, centers: Float64Array, weights: Float64Array) {
    this.k = k;
    this.dimensions = dimensions;
    this.centers = centers;
    this.weights = weights;
  }

  /** The index of the center nearest `vector` (the lowest index on a tie); sets {@link KMeansState.lastSquaredDistance}. */
  nearest(vector: Vector): number {
    const { k, dimensions: d, centers } = this;
    let best = 0;
    let bestDistance = Infinity;
    for (let j = 0; j < k; j++) {
      let sum = 0;
      const base = j * d;
      for (let i = 0; i < d; i++) {
        const diff = (vector[i] as number) - (centers[base + i] as number);
        sum += diff * diff;
      }
      if (sum < bestDistance) {
        bestDistance = sum;
        best = j;
      }
    }
    this.lastSquaredDistance = bestDistance;
    return best;
  }

  /**
   * The model after one batch (Spark's mini-batch rule with forgetfulness): each point goes to its
   * nearest center; every weight is discounted by `decay` (per batch, or to the power of the
   * batch's points); then each center that got m points with mean x moves to
   * `(c * w + x * m) / (w + m)` for its discounted weight w, which becomes `w + m`. Finally a
   * dying cluster (weight under 1e-8 of the heaviest's) is replaced by splitting the heaviest in
   * two, a hair apart. Points are folded partition by partition, each in order.
   */
  update(partitions: readonly (readonly Vector[])[], decay: number, unit: DecayUnit): KMeansState {
    const { k, dimensions: d } = this;
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    let points = 0;
    for (const partition of partitions) {
      for (let p = 0; p < partition.length; p++) {
        const vector = partition[p] as Vector;
        const j = this.nearest(vector);
        counts[j] = (counts[j] as number) + 1;
        const base = j * d;
        for (let i = 0; i < d; i++) sums[base + i] = (sums[base + i] as number) + (vector[i] as number);
      }
      points += partition.length;
    }
    const discount = unit === 'batches' ? decay : decay ** points;
    const centers = Float64Array.from(this.centers);
    const weights = new Float64Array(k);
    for (let j = 0; j < k; j++) {
      const m = counts[j] as number;
      const w = (this.weights[j] as number) * discount;
      weights[j] = w + m;
      if (m === 0) continue;
      const lambda = m / Math.max(w + m, 1e-16);
      const base = j * d;
      for (let i = 0; i < d; i++) centers[base + i] = (centers[base + i] as number) * (1 - lambda) + ((sums[base + i] as number) / m) * lambda;
    }
    splitDying(centers, weights, k, d);
    return new KMeansState(k, d, centers, weights);
  }
}

/** Replaces the lightest cluster by half of the heaviest when it is dying (see {@link DYING}). */
function splitDying(centers: Float64Array, weights: Float64Array, k: number, d: number): void {
  let heaviest = 0;
  let lightest = 0;
  for (let j = 1; j < k; j++) {
    if ((weights[j] as number) > (weights[heaviest] as number)) heaviest = j;
    if ((weights[j] as number) < (weights[lightest] as number)) lightest = j;
  }
  if (!((weights[lightest] as number) < DYING * (weights[heaviest] as number))) return;
  const half = ((weights[heaviest] as number) + (weights[lightest] as number)) / 2;
  weights[heaviest] = half;
  weights[lightest] = half;
  for (let i = 0; i < d; i++) {
    const c = centers[heaviest * d + i] as number;
    const nudge = 1e-14 * Math.max(Math.abs(c), 1);
    centers[heaviest * d + i] = c + nudge;
    centers[lightest * d + i] = c - nudge;
  }
}

/**
 * The first centers, picked among `points` by greedy k-means++ seeding: the first uniformly; each
 * next one, of `2 + floor(ln k)` candidates drawn with probability proportional to their squared
 * distance to the nearest center picked, the one that leaves the smallest sum of such distances
 * (so two centers rarely land in one cluster). Draws from a generator seeded by `seed` alone. The
 * centers start with weight 0 (the batch's own training then moves each to the mean of its
 * points). Needs at least `k` points.
 */
export function kMeansPlusPlus(points: readonly Vector[], k: number, d: number, seed: number): KMeansState {
  const random = new SeededRandom(seed);
  const n = points.length;
  const trials = 2 + Math.floor(Math.log(k));
  const centers = new Float64Array(k * d);
  const nearest = new Float64Array(n).fill(Infinity);
  const trial = new Float64Array(n);
  const best = new Float64Array(n);
  let chosen = Math.floor(random.next() * n);
  let total = potential(points, points[chosen] as Vector, nearest, nearest, d);
  for (let j = 0; j < k; j++) {
    const c = points[chosen] as Vector;
    for (let i = 0; i < d; i++) centers[j * d + i] = c[i] as number;
    if (j === k - 1) break;
    let bestTotal = Infinity;
    let bestIndex = 0;
    for (let t = 0; t < trials; t++) {
      const candidate = total > 0 ? pick(nearest, total * random.next()) : Math.floor(random.next() * n);
      const sum = potential(points, points[candidate] as Vector, nearest, trial, d);
      if (sum < bestTotal) {
        bestTotal = sum;
        bestIndex = candidate;
        best.set(trial);
      }
    }
    chosen = bestIndex;
    total = bestTotal;
    nearest.set(best);
  }
  return new KMeansState(k, d, centers, new Float64Array(k));
}

/** Writes into `out` each point's squared distance to the nearer of `center` and its `nearest` so far; returns their sum. */
function potential(points: readonly Vector[], center: Vector, nearest: Float64Array, out: Float64Array, d: number): number {
  let total = 0;
  for (let p = 0; p < points.length; p++) {
    const v = points[p] as Vector;
    let sum = 0;
    for (let i = 0; i < d; i++) {
      const diff = (v[i] as number) - (center[i] as number);
      sum += diff * diff;
    }
    const m = Math.min(sum, nearest[p] as number);
    out[p] = m;
    total += m;
  }
  return total;
}

/** The index where the running sum of `weights` first exceeds `target` (the last positive weight's, against rounding). */
function pick(weights: Float64Array, target: number): number {
  let sum = 0;
  let last = 0;
  for (let p = 0; p < weights.length; p++) {
    const w = weights[p] as number;
    if (w <= 0) continue;
    last = p;
    sum += w;
    if (sum > target) return p;
  }
  return last;
}
