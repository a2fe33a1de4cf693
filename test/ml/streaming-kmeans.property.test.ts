import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DStream } from 'sluice';
import { streamingKMeans, type KMeansModel, type Vector } from 'sluice/ml';
import { exactlyOnceUnderCrash, runBatches, seededRandom } from 'sluice/testing';
import { lloyd, nearestIndex } from './lloyd.js';

/*
 * Streaming k-means against batch k-means (Lloyd's, in ./lloyd.ts) on the same data: k
 * well-separated Gaussian clusters (centers at least 100 apart, sigma 1), the points shuffled and
 * cut into batches, the first batch holding a point of every cluster (the model seeds on it).
 * Every failure prints its seed (FC_SEED replays it).
 */

interface Scenario {
  readonly k: number;
  readonly d: number;
  readonly centers: number[][];
  readonly perCluster: number;
  readonly batchSize: number;
  readonly dataSeed: number;
  readonly modelSeed: number;
  readonly halfLife: number | undefined;
}

const scenario = fc
  .record({ k: fc.integer({ min: 2, max: 4 }), d: fc.integer({ min: 1, max: 3 }) })
  .chain(({ k, d }) =>
    fc.record({
      k: fc.constant(k),
      d: fc.constant(d),
      centers: fc
        .array(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: d, maxLength: d }), { minLength: k, maxLength: k })
        .filter((cs) => cs.every((a, i) => cs.every((b, j) => i === j || Math.hypot(...a.map((x, n) => x - (b[n] as number))) >= 100))),
      perCluster: fc.integer({ min: 5, max: 60 }),
      batchSize: fc.integer({ min: 10, max: 50 }),
      dataSeed: fc.integer(),
      modelSeed: fc.integer(),
      halfLife: fc.option(fc.double({ min: 1, max: 10, noNaN: true }), { nil: undefined }),
    }),
  );

/** The scenario's points with the index of the cluster each was drawn from, in arrival order. */
function pointsOf(sc: Scenario): { points: number[][]; labels: number[] } {
  const next = seededRandom(sc.dataSeed);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const all: [number[], number][] = [];
  sc.centers.forEach((c, j) => {
    for (let n = 0; n < sc.perCluster; n++) all.push([c.map((x) => x + gaussian()), j]);
  });
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [all[i], all[j]] = [all[j] as [number[], number], all[i] as [number[], number]];
  }
  // A point of every cluster in the first batch.
  for (let j = 0; j < sc.k; j++) {
    const at = all.findIndex(([, label]) => label === j);
    [all[j], all[at]] = [all[at] as [number[], number], all[j] as [number[], number]];
  }
  return { points: all.map(([p]) => p), labels: all.map(([, l]) => l) };
}

async function streamingModel(sc: Scenario, points: number[][]): Promise<KMeansModel> {
  const batches: number[][][] = [];
  for (let i = 0; i < points.length; i += sc.batchSize) batches.push(points.slice(i, i + sc.batchSize));
  const models = await runBatches(batches, (s: DStream<Vector>) => {
    const model = streamingKMeans({ k: sc.k, dimensions: sc.d, seed: sc.modelSeed, ...(sc.halfLife === undefined ? {} : { halfLife: { value: sc.halfLife, unit: 'batches' as const } }) });
    return s.pipe(model.trainOn());
  });
  const last = models.at(-1)?.[0];
  if (last === undefined) throw new Error('no model');
  return last;
}

describe('streamingKMeans against batch k-means (Lloyd) on well-separated clusters', () => {
  it('finds the same clusters: the same partition of the points; without decay, the same centers to 1e-9; with any half-life, each center inside its cluster', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const { points, labels } = pointsOf(sc);
        const model = await streamingModel(sc, points);
        const batch = lloyd(points, sc.centers);
        // Lloyd from the true centers keeps the true clusters.
        expect(batch.assignment).toEqual(labels);
        const centers = model.centers as number[][];
        // Each streaming center stands for one cluster: the nearest Lloyd center, one to one.
        const match = centers.map((c) => nearestIndex(batch.centers, c));
        expect(new Set(match).size).toBe(sc.k);
        // Scored by the streaming centers, the points fall into the same clusters.
        expect(points.map((p) => match[nearestIndex(centers, p)])).toEqual(batch.assignment);
        centers.forEach((c, j) => {
          const cluster = match[j] as number;
          const mine = points.filter((_, i) => batch.assignment[i] === cluster);
          c.forEach((x, i) => {
            const coordinates = mine.map((p) => p[i] as number);
            if (sc.halfLife === undefined) expect(Math.abs(x - (batch.centers[cluster]?.[i] as number))).toBeLessThan(1e-9 * Math.max(1, Math.abs(x)));
            else {
              expect(x).toBeGreaterThanOrEqual(Math.min(...coordinates) - 1e-9);
              expect(x).toBeLessThanOrEqual(Math.max(...coordinates) + 1e-9);
            }
          });
        });
        // Without decay, each weight is the number of points of its cluster.
        if (sc.halfLife === undefined) expect([...model.weights].sort()).toEqual(Array.from({ length: sc.k }, () => sc.perCluster));
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('is exactly-once under crashes at any step: the predictions and the model of a crashed job are those of a job that never crashed', async () => {
    const build = (input: DStream<number[]>): DStream<unknown> => {
      const model = streamingKMeans({ k: 2, dimensions: 2, seed: 5, halfLife: { value: 2, unit: 'points' }, name: 'km' });
      input.pipe(model.trainOn());
      return input.pipe(model.predictOn());
    };
    const vector = fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 2, maxLength: 2 });
    await fc.assert(exactlyOnceUnderCrash(fc, { build, records: fc.array(vector, { maxLength: 24 }), checkpointInterval: 2, extraBatches: 1 }), { numRuns: 12 });
  }, 120_000);
});
