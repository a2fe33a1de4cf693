import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, map, StreamingContext } from 'sluice';
import { levelCheckpoint, readCheckpointState } from 'sluice/checkpoint';
import { streamingKMeans, streamingLinearRegression, type KMeansModel, type LinearRegressionModel } from 'sluice/ml';
import { useTempDirs } from '../support/temp-dir.js';

const tempDir = useTempDirs('sluice-ml-');

/** Reading i: a point near one of three centers (by i mod 3), with a deterministic wobble. */
const reading = (i: number): number[] => {
  const centers = [
    [0, 0],
    [20, 20],
    [-20, 10],
  ];
  const c = centers[i % 3] as number[];
  return [(c[0] as number) + Math.sin(i * 1.7), (c[1] as number) + Math.cos(i * 2.3)];
};

interface Models {
  readonly kmeans: Map<number, KMeansModel>;
  readonly regression: Map<number, LinearRegressionModel>;
  readonly scores: Map<number, number[]>;
}

/** Both models trained on a backfilled rate stream (batch b holds readings 10b..10b+9 however late it runs), on a LevelDB checkpoint. */
function job(dir: string, clock: ManualClock, out: Models, checkpointInterval: number): StreamingContext {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(dir, { interval: checkpointInterval }) });
  const points = ctx.rateStream({ rowsPerSecond: 1000, startTime: 0, backfill: true, maxRecordsPerBatch: 10, generate: reading, name: 'readings' });
  const kmeans = streamingKMeans({ k: 3, dimensions: 2, seed: 42, halfLife: { value: 3, unit: 'batches' }, name: 'clusters' });
  points.pipe(kmeans.trainOn(), foreachBatch((m, { batchId }) => {
      if (m[0] !== undefined) out.kmeans.set(batchId, m[0]);
    }),
  );
  points.pipe(
    kmeans.predictOn(),
    map((p) => p.distance),
    foreachBatch((d, { batchId }) => void out.scores.set(batchId, [...d])),
  );
  const regression = streamingLinearRegression({ dimensions: 1, stepSize: 0.01, numIterations: 5, miniBatchFraction: 0.5, intercept: true, seed: 9, name: 'line' });
  points.pipe(
    map(([x, y]) => ({ features: [x as number], label: y as number })),
    regression.trainOn(),
    foreachBatch((m, { batchId }) => {
      if (m[0] !== undefined) out.regression.set(batchId, m[0]);
    }),
  );
  return ctx;
}

async function run(dir: string, from: number, batches: number, out: Models, checkpointInterval = 1): Promise<void> {
  const clock = new ManualClock(from * 1000);
  const ctx = job(dir, clock, out, checkpointInterval);
  await ctx.start();
  for (let i = 0; i < batches && ctx.state === 'active'; i++) await clock.advance(1000);
  await ctx.stop();
}

const models = (): Models => ({ kmeans: new Map(), regression: new Map(), scores: new Map() });

describe('the models in a LevelDB checkpoint', () => {
  it.each([1, 3])('restarted on their checkpoint (checkpointInterval %s), give the models and scores of a run that never stopped', async (checkpointInterval) => {
    const whole = models();
    await run(await tempDir(), 0, 9, whole, checkpointInterval);
    const dir = await tempDir();
    const parts = models();
    await run(dir, 0, 4, parts, checkpointInterval);
    await run(dir, 4, 5, parts, checkpointInterval);
    expect(whole.kmeans.size).toBe(9);
    // Every batch's model bit for bit (a batch replayed after the restart included).
    expect(new Map([...parts.kmeans].sort(([a], [b]) => a - b))).toEqual(whole.kmeans);
    expect(new Map([...parts.regression].sort(([a], [b]) => a - b))).toEqual(whole.regression);
    expect(new Map([...parts.scores].sort(([a], [b]) => a - b))).toEqual(whole.scores);
    // And the stopped job's checkpoint holds the last one, as `sluice state` shows it.
    const stored = await readCheckpointState(dir, 'clusters');
    expect(stored.batchId).toBe(8);
    expect(stored.entries).toEqual([{ key: 'model', value: whole.kmeans.get(8) }]);
    expect((await readCheckpointState(dir, 'line')).entries).toEqual([{ key: 'model', value: whole.regression.get(8) }]);
  }, 30_000);
});
