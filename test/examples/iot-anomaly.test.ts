import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { readScores, runIotAnomaly, SETTINGS, type Score } from '../../examples/iot-anomaly/job.js';
import { expectedScores } from '../../examples/iot-anomaly/reference.js';
import { runInterrupted } from '../support/child-job.js';
import { useTempDirs } from '../support/temp-dir.js';

/*
 * The job against its reference (a plain loop computing the same model and scores), then the
 * restart test: the job (fixtures/iot-anomaly-job.mjs, on the built package) in child processes
 * stopped with SIGTERM or killed with SIGKILL at seeded points, restarted on the same directory
 * each time. SLUICE_EXAMPLE_SEED replays the points (the seed is printed when it fails).
 */
const SEED = Number(process.env.SLUICE_EXAMPLE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const OPTIONS = { perDevice: 200, batchSize: 60, batchInterval: 20 } as const;
const fixture = fileURLToPath(new URL('./fixtures/iot-anomaly-job.mjs', import.meta.url));
const tempDir = useTempDirs('sluice-anomaly-test-');

function expectSameScores(actual: readonly Score[], expected: readonly { index: number; cluster: number; score: number; flagged: boolean }[]): void {
  expect(actual.map(({ index, cluster, flagged }) => ({ index, cluster, flagged }))).toEqual(expected.map(({ index, cluster, flagged }) => ({ index, cluster, flagged })));
  actual.forEach((s, i) => {
    expect(Math.abs(s.score - (expected[i]?.score as number)), `score of reading ${s.index}`).toBeLessThan(1e-9);
  });
}

describe('the IoT anomaly example', () => {
  it('scores every reading as the reference loop does (the model as of the previous batch), and flags the injected anomalies', async () => {
    const result = await runIotAnomaly(OPTIONS);
    expect(result.finished).toBe(true);
    const expected = expectedScores(result.readings, { batchSize: OPTIONS.batchSize, centers: SETTINGS.centers, halfLife: SETTINGS.halfLife, threshold: SETTINGS.threshold });
    expectSameScores(result.scores, expected);
    // The detector itself: every injected anomaly is flagged, and nothing else.
    expect(result.injected.size).toBeGreaterThan(3);
    expect(new Set(result.scores.filter((s) => s.flagged).map((s) => s.index))).toEqual(result.injected);
  }, 30_000);

  it.skipIf(process.platform === 'win32')(
    'restarted on its checkpoint after clean stops and after SIGKILLs at seeded points, ends with the scores of an uninterrupted run',
    async () => {
      const log: string[] = [];
      try {
        const [uninterrupted, stopped, killed] = await Promise.all([runIotAnomaly(OPTIONS), tempDir(), tempDir()]);
        const args = (dir: string): string[] => [dir, JSON.stringify(OPTIONS)];
        const [stops, kills] = await Promise.all([
          runInterrupted(fixture, args(stopped), { how: 'stop', times: 2, maxBatches: 5, next: seededRandom(SEED), log }),
          runInterrupted(fixture, args(killed), { how: 'kill', times: 3, maxBatches: 6, next: seededRandom(SEED + 1), log }),
        ]);
        expect(stops, 'runs stopped before they finished').toBeGreaterThan(0);
        expect(kills, 'runs killed before they finished').toBeGreaterThan(0);
        // Every reading scored once, by the same model: the model came back from the checkpoint bit for bit.
        for (const dir of [stopped, killed]) expect(await readScores(dir), dir).toEqual(uninterrupted.scores);
      } catch (error) {
        console.error(`IoT anomaly restart test failed with seed ${SEED} (replay: SLUICE_EXAMPLE_SEED=${SEED})\n${log.join('\n')}`);
        throw error;
      }
    },
    60_000,
  );
});
