import { features, type SensorReading } from './generate.js';

/** An expected score: a reading's distance to the nearest center of the model before its batch. */
export interface ExpectedScore {
  readonly index: number;
  readonly cluster: number;
  readonly score: number;
  readonly flagged: boolean;
}

/** The model settings the job uses, for the reference to follow. */
export interface ReferenceSettings {
  readonly batchSize: number;
  readonly centers: readonly (readonly number[])[];
  /** The half-life in points. */
  readonly halfLife: number;
  readonly threshold: number;
}

/**
 * The scores, directly (no Sluice): the readings cut into batches of `batchSize` in order; each
 * batch is first scored by the centers as they are (the distance to the nearest), then the
 * centers learn it: each center's weight is discounted by `0.5 ** (points / halfLife)` and each
 * center that got m points of mean x moves to `(c * w + x * m) / (w + m)`, weight `w + m`.
 */
export function expectedScores(readings: readonly SensorReading[], settings: ReferenceSettings): ExpectedScore[] {
  const centers = settings.centers.map((c) => [...c]);
  const weights = centers.map(() => 0);
  const out: ExpectedScore[] = [];
  for (let start = 0; start < readings.length; start += settings.batchSize) {
    const batch = readings.slice(start, start + settings.batchSize).map((r) => ({ r, x: features(r) }));
    const assigned = batch.map(({ r, x }) => {
      const distances = centers.map((c) => Math.hypot(...c.map((v, i) => (x[i] as number) - v)));
      const cluster = distances.indexOf(Math.min(...distances));
      out.push({ index: r.index, cluster, score: distances[cluster] as number, flagged: (distances[cluster] as number) > settings.threshold });
      return cluster;
    });
    const discount = 0.5 ** (batch.length / settings.halfLife);
    centers.forEach((c, j) => {
      const mine = batch.filter((_, i) => assigned[i] === j).map(({ x }) => x);
      const w = (weights[j] as number) * discount;
      weights[j] = w + mine.length;
      if (mine.length === 0) return;
      c.forEach((v, i) => {
        const mean = mine.reduce((s, x) => s + (x[i] as number), 0) / mine.length;
        c[i] = (v * w + mean * mine.length) / (w + mine.length);
      });
    });
  }
  return out;
}
