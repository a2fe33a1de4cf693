import { describe, expect, it } from 'vitest';
import { foreachBatch, map, type BatchProgress, type DStream } from 'sluice';
import { streamingLinearRegression, type LabeledPoint, type LinearRegressionModel, type StreamingLinearRegressionOptions } from 'sluice/ml';
import { runBatches, seededRandom } from 'sluice/testing';

/** Trains on the labeled points and predicts their features: the predictions and the model after each batch. */
async function trainAndPredict(batches: readonly (readonly LabeledPoint[])[], options: StreamingLinearRegressionOptions, progress?: BatchProgress[]): Promise<{ predictions: number[][]; models: LinearRegressionModel[] }> {
  const models: LinearRegressionModel[] = [];
  const predictions = await runBatches(
    batches,
    (s: DStream<LabeledPoint>) => {
      const model = streamingLinearRegression(options);
      s.pipe(model.trainOn(), foreachBatch((m) => void models.push(...m)));
      return s.pipe(map((p: LabeledPoint) => p.features), model.predictOn(), map((p) => p.prediction));
    },
    {
      configure: (ctx) => {
        ctx.addListener((e) => {
          if (e.type === 'batchCompleted') progress?.push(e.progress);
        });
      },
    },
  );
  return { predictions, models };
}

/** Noisy linear data: `label = w · x + b + N(0, sigma)`, `x` uniform in [-1, 1]^d. */
function linearData(seed: number, weights: readonly number[], intercept: number, sigma: number, batches: number, perBatch: number): LabeledPoint[][] {
  const next = seededRandom(seed);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  return Array.from({ length: batches }, () =>
    Array.from({ length: perBatch }, () => {
      const features = weights.map(() => next() * 2 - 1);
      return { features, label: features.reduce((s, x, i) => s + x * (weights[i] as number), intercept) + sigma * gaussian() };
    }),
  );
}

/** The least-squares fit of all the data at once (normal equations, Gaussian elimination): the batch reference. */
function leastSquares(points: readonly LabeledPoint[], intercept: boolean): number[] {
  const rows = points.map((p) => (intercept ? [...Array.from(p.features), 1] : Array.from(p.features)));
  const n = (rows[0] as number[]).length;
  const a = Array.from({ length: n }, (_, i) => Array.from({ length: n + 1 }, (_, j) => (j < n ? rows.reduce((s, r) => s + (r[i] as number) * (r[j] as number), 0) : rows.reduce((s, r, k) => s + (r[i] as number) * (points[k] as LabeledPoint).label, 0))));
  for (let c = 0; c < n; c++) {
    const pivot = a.slice(c).reduce((best, row, i) => (Math.abs(row[c] as number) > Math.abs((a[best] as number[])[c] as number) ? c + i : best), c);
    [a[c], a[pivot]] = [a[pivot] as number[], a[c] as number[]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = ((a[r] as number[])[c] as number) / ((a[c] as number[])[c] as number);
      for (let j = c; j <= n; j++) (a[r] as number[])[j] = ((a[r] as number[])[j] as number) - f * ((a[c] as number[])[j] as number);
    }
  }
  return a.map((row, i) => (row[n] as number) / (row[i] as number));
}

describe('streamingLinearRegression on hand-computed examples', () => {
  const points = [
    { features: [1], label: 2 },
    { features: [2], label: 4 },
  ];

  it('takes stepSize times the mean squared-error gradient per step, from the weights the last batch left', async () => {
    const { models, predictions } = await trainAndPredict([points, points], { dimensions: 1, stepSize: 1, numIterations: 1 });
    // Batch 0 from w = 0: gradient mean((0 - 2) * 1, (0 - 4) * 2) = -5, so w = 5.
    // Batch 1 from w = 5: gradient mean((5 - 2) * 1, (10 - 4) * 2) = 7.5, so w = -2.5.
    expect(models).toEqual([
      { weights: [5], intercept: 0 },
      { weights: [-2.5], intercept: 0 },
    ]);
    // Predictions by the model as of the previous batch: 0, then 5.
    expect(predictions).toEqual([
      [0, 0],
      [5, 10],
    ]);
  });

  it('fits an intercept as the weight of a constant feature, and divides step i by sqrt(i)', async () => {
    const { models } = await trainAndPredict([[{ features: [1], label: 2 }]], { dimensions: 1, stepSize: 1, numIterations: 2, intercept: true, convergenceTol: 0 });
    // Step 1: error -2, w = b = 2. Step 2: error 2 + 2 - 2 = 2, each moves by -2 / sqrt(2).
    expect(models[0]?.weights[0]).toBeCloseTo(2 - Math.SQRT2, 14);
    expect(models[0]?.intercept).toBeCloseTo(2 - Math.SQRT2, 14);
  });

  it('leaves the model alone on an empty batch, and starts from initialWeights', async () => {
    const { models, predictions } = await trainAndPredict([[], [{ features: [1, 1], label: 0 }]], { dimensions: 2, initialWeights: [1, 2], stepSize: 1, numIterations: 1 });
    expect(models[0]).toEqual({ weights: [1, 2], intercept: 0 });
    expect(predictions[1]).toEqual([3]);
    expect(models[1]).toEqual({ weights: [-2, -1], intercept: 0 });
  });
});

describe('streamingLinearRegression against the generating weights and a batch least-squares fit', () => {
  const truth = [2, -1, 0.5];

  it.each([1, 0.3])('converges on noisy linear data (miniBatchFraction %s)', async (miniBatchFraction) => {
    const data = linearData(7, truth, 3, 0.1, 40, 100);
    const { models } = await trainAndPredict(data, { dimensions: 3, stepSize: 0.5, numIterations: 50, intercept: true, miniBatchFraction, seed: 11 });
    const last = models.at(-1) as LinearRegressionModel;
    const fitted = [...last.weights, last.intercept];
    const batch = leastSquares(data.flat(), true);
    fitted.forEach((w, i) => {
      expect(Math.abs(w - ([...truth, 3][i] as number)), `weight ${i} against the generating one`).toBeLessThan(0.05);
      expect(Math.abs(w - (batch[i] as number)), `weight ${i} against least squares`).toBeLessThan(0.05);
    });
  });

  it('samples mini-batches by seed and batch time: the same run gives the identical model, another seed another one', async () => {
    const data = linearData(3, truth, 0, 0.5, 5, 40);
    const run = (seed: number) => trainAndPredict(data, { dimensions: 3, stepSize: 0.2, miniBatchFraction: 0.5, seed });
    const [a, b, c] = await Promise.all([run(1), run(1), run(2)]);
    expect(b.models).toEqual(a.models);
    expect(c.models).not.toEqual(a.models);
  });
});

describe('streamingLinearRegression with bad input', () => {
  it("skips (and counts) points that are not labeled vectors of the right dimension under 'skip'", async () => {
    const progress: BatchProgress[] = [];
    const bad = [{ features: [1], label: 1 }, { features: [1, 2], label: Number.NaN }, { label: 1 }, [1, 2]] as unknown as LabeledPoint[];
    const { models } = await trainAndPredict([[{ features: [1, 0], label: 2 }, ...bad]], { dimensions: 2, stepSize: 1, numIterations: 1, onError: 'skip' }, progress);
    expect(models).toEqual([{ weights: [2, 0], intercept: 0 }]);
    expect(progress[0]?.operators.find((o) => o.operator.startsWith('streamingLinearRegression'))?.skippedRecords).toBe(4);
  });

  it("fails the batch under 'fail' with what was wrong", async () => {
    await expect(trainAndPredict([[{ features: [1, 2], label: Number.POSITIVE_INFINITY }]], { dimensions: 2 })).rejects.toThrow(/expected a finite label, got Infinity/);
  });

  const cases: [string, unknown, RegExp, typeof TypeError | typeof RangeError][] = [
    ['dimensions', { dimensions: 0 }, /dimensions must be a positive integer \(the number of features\), got 0/, RangeError],
    ['stepSize', { dimensions: 1, stepSize: -1 }, /stepSize must be a positive finite number/, RangeError],
    ['numIterations', { dimensions: 1, numIterations: 0 }, /numIterations must be a positive integer/, RangeError],
    ['miniBatchFraction', { dimensions: 1, miniBatchFraction: 0 }, /miniBatchFraction must be in \(0, 1\]/, RangeError],
    ['convergenceTol', { dimensions: 1, convergenceTol: -1 }, /convergenceTol must be a finite number >= 0/, RangeError],
    ['initialWeights', { dimensions: 2, initialWeights: [1] }, /initialWeights: expected a vector of 2 numbers/, TypeError],
    ['intercept', { dimensions: 2, intercept: 'yes' }, /intercept must be true or false/, TypeError],
  ];
  it.each(cases)('rejects a bad %s at once with a message that says what to change', (_what, options, message, type) => {
    expect(() => streamingLinearRegression(options as StreamingLinearRegressionOptions)).toThrow(type);
    expect(() => streamingLinearRegression(options as StreamingLinearRegressionOptions)).toThrow(message);
  });
});
