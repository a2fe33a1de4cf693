import { afterAll, describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, map, StreamingContext, type BatchProgress, type DStream } from 'sluice';
import { streamingKMeans, type KMeansModel, type KMeansPrediction, type StreamingKMeansOptions, type Vector } from 'sluice/ml';
import { queryableState } from 'sluice/state';
import { runBatches } from 'sluice/testing';
import type { StateBackend } from 'sluice/extend';
import { BACKENDS, backendFactory, removeBackendDirs } from '../state/backends.js';
import { window } from 'sluice/windows';

/** Trains on the input and scores it: the predictions, and the model after each batch. */
async function trainOnBackend(
  batches: readonly (readonly Vector[])[],
  options: StreamingKMeansOptions,
  more: { numBatches?: number; progress?: BatchProgress[]; stateBackend?: (() => Promise<StateBackend>) | undefined } = {},
): Promise<{ predictions: KMeansPrediction[][]; models: KMeansModel[][] }> {
  const models: KMeansModel[][] = [];
  const predictions = await runBatches(
    batches,
    (s: DStream<Vector>) => {
      const model = streamingKMeans(options);
      s.pipe(model.trainOn(), foreachBatch((m) => void models.push([...m])));
      return s.pipe(model.predictOn());
    },
    {
      numPartitions: 2,
      ...(more.numBatches === undefined ? {} : { numBatches: more.numBatches }),
      ...(more.stateBackend === undefined ? {} : { stateBackend: more.stateBackend }),
      configure: (ctx) => {
        ctx.addListener((e) => {
          if (e.type === 'batchCompleted') more.progress?.push(e.progress);
        });
      },
    },
  );
  return { predictions, models };
}

const trainAndPredict = trainOnBackend;
const centersOf = (models: KMeansModel[][]): (number[] | undefined)[] => models.map((m) => m[0]?.centers.map((c) => c[0] as number));
const weightsOf = (models: KMeansModel[][]): (readonly number[] | undefined)[] => models.map((m) => m[0]?.weights);

afterAll(removeBackendDirs);

describe.each(BACKENDS)('streamingKMeans on hand-computed examples (%s state backend)', (backend) => {
  // One dimension, centers 0 and 10 with weight 0: the first batch's points replace them.
  const start = { k: 2, dimensions: 1, initialCenters: [[0], [10]] } as const;
  const stateBackend = backendFactory(backend);
  const trainAndPredict: typeof trainOnBackend = (batches, options, more) => trainOnBackend(batches, options, { ...more, stateBackend });

  it('moves each center to the weighted mean of its past and its batch points, weights counting points (decay 1)', async () => {
    const { models } = await trainAndPredict([[[1], [3], [10]], [[5]], [], [[12]]], start);
    // c0: 2 (w 2), then (2*2 + 5)/3 = 3 (w 3); c1: 10 (w 1), then (10 + 12)/2 = 11 (w 2).
    expect(centersOf(models)).toEqual([[2, 10], [3, 10], [3, 10], [3, 11]]);
    expect(weightsOf(models)).toEqual([[2, 1], [3, 1], [3, 1], [3, 2]]);
  });

  it('halves the weight of what it learnt every batch with a half-life of 1 batch, empty batches included', async () => {
    const { models } = await trainAndPredict([[[1], [3], [10]], [[5]], [], [[6.5]]], { ...start, halfLife: { value: 1, unit: 'batches' } });
    // Batch 1: c0 = (2*1 + 5*1)/2 = 3.5 (w 2*0.5 + 1 = 2), c1 keeps 10 (w 0.5).
    // Batch 2 (empty): weights halve to 1 and 0.25.
    // Batch 3: 6.5 is nearer 3.5: c0 = (3.5*0.5 + 6.5)/1.5 = 5.5 (w 1.5), w1 = 0.125.
    expect(centersOf(models)).toEqual([[2, 10], [3.5, 10], [3.5, 10], [5.5, 10]]);
    expect(weightsOf(models)).toEqual([[2, 1], [2, 0.5], [1, 0.25], [1.5, 0.125]]);
  });

  it('with a half-life in points, discounts by 0.5 per point of the batch and not at all on an empty batch', async () => {
    const { models } = await trainAndPredict([[[1], [3], [10]], [[1], [4]], []], { ...start, halfLife: { value: 1, unit: 'points' } });
    // Batch 1 (2 points, discount 0.25): c0 = (2*0.5 + 2.5*2)/2.5 = 2.4 (w 2.5), w1 = 0.25.
    expect(centersOf(models)).toEqual([[2, 10], [2.4, 10], [2.4, 10]]);
    expect(weightsOf(models)).toEqual([[2, 1], [2.5, 0.25], [2.5, 0.25]]);
  });

  it('takes decayFactor as the per-batch discount: 0 keeps only the latest batch, and a cluster left without weight is replaced by splitting the heaviest', async () => {
    const { models } = await trainAndPredict([[[1], [2], [10]], [[1]]], { ...start, decayFactor: 0 });
    expect(centersOf(models)[0]).toEqual([1.5, 10]);
    // Batch 1: c0 = 1 (w 1), c1 has weight 0: it is dying, so c0 is split in two, a hair apart, weight 0.5 each.
    const [c0, c1] = centersOf(models)[1] as number[];
    expect(c0).toBeCloseTo(1, 12);
    expect(c1).toBeCloseTo(1, 12);
    expect(c0).not.toBe(c1);
    expect(weightsOf(models)[1]).toEqual([0.5, 0.5]);
  });

  it('scores each batch with the model as of the previous batch, never with the batch itself', async () => {
    const { predictions } = await trainAndPredict([[[1], [3], [10]], [[5]], [], [[6.5]]], { ...start, halfLife: { value: 1, unit: 'batches' } });
    // Batch 0 by the initial centers 0 and 10; batch 1 by 2 and 10; batch 3 by 3.5 and 10.
    expect(predictions.map((b) => b.map((p) => [p.point[0], p.cluster, p.distance]))).toEqual([[[1, 0, 1], [3, 0, 3], [10, 1, 0]], [[5, 0, 3]], [], [[6.5, 0, 3]]]);
  });

  it('without initial centers, has no model (cluster -1, distance NaN) until a batch brings k points, then seeds from that batch', async () => {
    const { predictions, models } = await trainAndPredict([[[1]], [[0], [100], [2]], [[99]]], { k: 2, dimensions: 1, seed: 3 });
    expect(predictions[0]).toEqual([{ point: [1], cluster: -1, distance: Number.NaN }]);
    expect(predictions[1]?.every((p) => p.cluster === -1)).toBe(true);
    expect(models[0]).toEqual([]);
    // Seeded on batch 1 (the first batch is not learnt from) and trained on it: the means 1 and 100.
    expect([...(centersOf(models)[1] as number[])].sort((a, b) => a - b)).toEqual([1, 100]);
    const scored = predictions[2]?.[0];
    expect(scored?.distance).toBe(1);
  });

  it('predictOnValues keeps the key', async () => {
    const out = await runBatches([[['a', [1]], ['b', [9]]]] as [string, number[]][][], (s) => {
      const model = streamingKMeans(start);
      s.pipe(map(([, v]) => v), model.trainOn());
      return s.pipe(model.predictOnValues());
    });
    expect(out).toEqual([
      [
        ['a', { cluster: 0, distance: 1 }],
        ['b', { cluster: 1, distance: 1 }],
      ],
    ]);
  });

  it('predictOn scores records of any type by the vector features reads; a features that throws sets its record aside by onError', async () => {
    interface Reading {
      readonly id: string;
      readonly x: number;
    }
    const progress: BatchProgress[] = [];
    const out = await runBatches(
      [[{ id: 'a', x: 1 }, { id: 'bad', x: 0 }, { id: 'b', x: 12 }]] as Reading[][],
      (s) => {
        const model = streamingKMeans(start);
        s.pipe(map((r) => [r.x]), model.trainOn());
        return s.pipe(
          model.predictOn<Reading>({
            onError: 'skip',
            features: (r) => {
              if (r.id === 'bad') throw new Error('no reading');
              return [r.x];
            },
          }),
          map((p) => [p.point.id, p.cluster, p.distance]),
        );
      },
      {
        configure: (ctx) => {
          ctx.addListener((e) => {
            if (e.type === 'batchCompleted') progress.push(e.progress);
          });
        },
      },
    );
    expect(out).toEqual([
      [
        ['a', 0, 1],
        ['b', 1, 2],
      ],
    ]);
    expect(progress[0]?.operators.find((o) => o.operator.startsWith('predictOn'))?.skippedRecords).toBe(1);
    expect(() => streamingKMeans(start).predictOn({ features: 3 } as never)).toThrow(/features must be a function from a record to its vector, got number/);
  });

  it('trained on a windowed stream, learns (and decays) only at its slides', async () => {
    const models = await runBatches([[[1]], [[3]], [[5]], [[7]]], (s: DStream<Vector>) => {
      const model = streamingKMeans({ k: 1, dimensions: 1, initialCenters: [[0]], halfLife: { value: 1, unit: 'batches' } });
      return s.pipe(window(2000, 2000), model.trainOn());
    });
    // Slides after batches 1 and 3: (1 + 3) / 2 = 2 (w 2), then (2 * 1 + 6 * 2) / 3 (w 3), one halving between.
    expect(models.map((m) => m[0])).toEqual([
      { centers: [[2]], weights: [2] },
      { centers: [[14 / 3]], weights: [3] },
    ]);
  });

  it('is deterministic: the same input and seed give the identical model, another seed may not', async () => {
    const points = Array.from({ length: 60 }, (_, i) => [Math.sin(i) * 10, Math.cos(i * 1.3) * 10]);
    const batches = [points.slice(0, 20), points.slice(20, 40), points.slice(40)];
    const run = (seed: number) => trainAndPredict(batches, { k: 3, dimensions: 2, seed, halfLife: { value: 2, unit: 'points' } });
    const [a, b] = await Promise.all([run(1), run(1)]);
    expect(b.models).toEqual(a.models);
    expect(b.predictions).toEqual(a.predictions);
  });
});

describe('streamingKMeans with bad records', () => {
  const options = { k: 1, dimensions: 2, initialCenters: [[0, 0]] } as const;
  const bad: unknown[] = [[1, 2, 3], [1, Number.NaN], 'x', null, [1, Infinity]];

  it("fails the batch under onError 'fail', saying what was wrong with the record", async () => {
    await expect(trainAndPredict([[[1, 1], [1, 2, 3]]], options)).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    await expect(trainAndPredict([[[1, 1], [1, 2, 3]]], options)).rejects.toThrow(/vector of 2 numbers .*got one of 3/);
    await expect(trainAndPredict([[[1, Number.NaN]]], options)).rejects.toThrow(/finite numbers, got NaN at index 1/);
  });

  it("sets them aside and counts them under 'skip': training and prediction both skip them", async () => {
    const progress: BatchProgress[] = [];
    const { predictions, models } = await trainAndPredict([[[2, 2], ...bad, [4, 4]] as Vector[]], { ...options, onError: 'skip' }, { progress });
    expect(models[0]?.[0]).toEqual({ centers: [[3, 3]], weights: [2] });
    expect(predictions[0]?.map((p) => p.point)).toEqual([
      [2, 2],
      [4, 4],
    ]);
    const skipped = progress[0]?.operators.filter((o) => (o.skippedRecords ?? 0) > 0).map((o) => [o.operator, o.skippedRecords]);
    expect(skipped).toEqual([
      ['streamingKMeans#0', 5],
      ['predictOn#2', 5],
    ]);
  });

  it("sends them to the context's dead letters under 'deadLetter'", async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const model = streamingKMeans({ ...options, onError: 'deadLetter', name: 'clusters' });
    const input = ctx.queueStream<Vector>([[[1, 1], [1, 2, 3]]]);
    input.pipe(model.trainOn());
    const letters: unknown[] = [];
    ctx.deadLetters.pipe(foreachBatch((b) => void letters.push(...b.map((l) => [l.operator, l.record]))));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(letters).toEqual([['clusters', [1, 2, 3]]]);
  });
});

describe('streamingKMeans options', () => {
  const cases: [string, unknown, RegExp, typeof TypeError | typeof RangeError][] = [
    ['k', { k: 0, dimensions: 2 }, /k must be a positive integer \(the number of clusters\), got 0/, RangeError],
    ['dimensions', { k: 2, dimensions: 1.5 }, /dimensions must be a positive integer/, RangeError],
    ['decayFactor', { k: 2, dimensions: 2, decayFactor: 1.5 }, /decayFactor must be a number from 0 .* to 1 .*got 1.5/, RangeError],
    ['both decays', { k: 2, dimensions: 2, decayFactor: 0.5, halfLife: { value: 1, unit: 'batches' } }, /pass decayFactor or halfLife, not both/, TypeError],
    ['halfLife unit', { k: 2, dimensions: 2, halfLife: { value: 1, unit: 'seconds' } }, /unit 'batches' or 'points', got unit "seconds"/, TypeError],
    ['halfLife value', { k: 2, dimensions: 2, halfLife: { value: 0, unit: 'points' } }, /halfLife.value must be a positive finite number of points, got 0/, RangeError],
    ['centers and seed', { k: 1, dimensions: 1, initialCenters: [[0]], seed: 1 }, /initialCenters or seed, not both/, TypeError],
    ['center count', { k: 2, dimensions: 1, initialCenters: [[0]] }, /initialCenters must be k = 2 vectors, got 1/, TypeError],
    ['center dimension', { k: 1, dimensions: 2, initialCenters: [[0]] }, /initialCenters\[0\]: expected a vector of 2 numbers/, TypeError],
    ['negative weight', { k: 1, dimensions: 1, initialCenters: [[0]], initialWeights: [-1] }, /initialWeights must not be negative/, RangeError],
    ['seed', { k: 1, dimensions: 1, seed: 0.5 }, /seed must be a 32-bit integer, got 0.5/, RangeError],
    ['onError', { k: 1, dimensions: 1, onError: 'ignore' }, /onError must be 'fail', 'skip' or 'deadLetter'/, TypeError],
  ];
  it.each(cases)('rejects a bad %s at once with a message that says what to change', (_what, options, message, type) => {
    expect(() => streamingKMeans(options as StreamingKMeansOptions)).toThrow(type);
    expect(() => streamingKMeans(options as StreamingKMeansOptions)).toThrow(message);
  });

  it('asks for trainOn before predictOn, and trains one stream only', () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const input = ctx.queueStream<Vector>([]);
    const model = streamingKMeans({ k: 1, dimensions: 1 });
    expect(() => input.pipe(model.predictOn())).toThrow(/apply model.trainOn\(\) to the training stream before model.predictOn/);
    input.pipe(model.trainOn());
    expect(() => input.pipe(model.trainOn())).toThrow(/trainOn\(\) was applied already/);
  });
});

describe('the k-means model as state', () => {
  it('is readable through queryableState after each batch, as of the last completed batch', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const model = streamingKMeans({ k: 2, dimensions: 1, initialCenters: [[0], [10]], name: 'clusters' });
    const trained = ctx.queueStream<Vector>([[[1], [3], [10]], [[5]]]).pipe(model.trainOn());
    const state = queryableState(trained);
    await ctx.start();
    expect(await state.get('model')).toBeUndefined();
    await clock.advance(1000);
    expect(await state.get('model')).toEqual({ centers: [[2], [10]], weights: [2, 1] });
    await clock.advance(1000);
    expect(await state.get('model')).toEqual({ centers: [[3], [10]], weights: [3, 1] });
    const all: unknown[] = [];
    for await (const entry of state.entries()) all.push(entry);
    expect(all).toEqual([['model', { centers: [[3], [10]], weights: [3, 1] }]]);
    await ctx.stop();
  });
});
