import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { readRollups, runIotRollups, type Rollup } from '../../examples/iot-rollups/job.js';
import { expectedRollups } from '../../examples/iot-rollups/reference.js';
import { runInterrupted } from '../support/child-job.js';
import { useTempDirs } from '../support/temp-dir.js';

/*
 * The restart test runs the job (fixtures/iot-job.mjs, on the built package) in child processes
 * stopped with SIGTERM or killed with SIGKILL at seeded points, restarted on the same directory
 * each time. SLUICE_EXAMPLE_SEED replays the points (the seed is printed when it fails).
 */
const SEED = Number(process.env.SLUICE_EXAMPLE_SEED ?? Math.floor(Math.random() * 2 ** 31));
// Small batches: a bounded run goes back to back, and the kills must land while batches are left.
const OPTIONS = { days: 3, everyMinutes: 15, batchInterval: 20, maxRecordsPerBatch: 100 } as const;
const fixture = fileURLToPath(new URL('./fixtures/iot-job.mjs', import.meta.url));
const tempDir = useTempDirs('sluice-iot-test-');

const byDeviceDay = (a: Rollup, b: Rollup): number => a.device.localeCompare(b.device) || a.day.localeCompare(b.day);

describe('the IoT rollups example', () => {
  it('rolls every reading up into its device-local calendar day', async () => {
    const result = await runIotRollups(OPTIONS);
    expect(result.finished).toBe(true);
    const expected = expectedRollups(result.readings);
    const actual = [...result.rollups].sort(byDeviceDay);
    expect(actual.map(({ device, day, readings, max }) => ({ device, day, readings, max }))).toEqual(expected.map(({ device, day, readings, max }) => ({ device, day, readings, max })));
    actual.forEach((r, i) => {
      expect(r.mean).toBeCloseTo(expected[i]!.mean, 9);
    });
    // Berlin's 29 March 2026 is 23 hours long (summer time starts).
    expect(actual.find((r) => r.device === 'berlin-roof' && r.day === '2026-03-29')?.hours).toBe(23);
  }, 30_000);

  it.skipIf(process.platform === 'win32')(
    'restarted on its checkpoint after clean stops and after SIGKILLs at seeded points, ends with the rollups of an uninterrupted run',
    async () => {
      const log: string[] = [];
      try {
        const [uninterrupted, stopped, killed] = await Promise.all([runIotRollups(OPTIONS), tempDir(), tempDir()]);
        const args = (dir: string): string[] => [dir, JSON.stringify(OPTIONS)];
        const [stops, kills] = await Promise.all([
          runInterrupted(fixture, args(stopped), { how: 'stop', times: 2, maxBatches: 4, next: seededRandom(SEED), log }),
          runInterrupted(fixture, args(killed), { how: 'kill', times: 3, maxBatches: 6, next: seededRandom(SEED + 1), log }),
        ]);
        expect(stops, 'runs stopped before they finished').toBeGreaterThan(0);
        expect(kills, 'runs killed before they finished').toBeGreaterThan(0);
        // Every device-day once (none lost, none doubled), with the same figures; a mean may differ
        // in its last bits, as other batches sum the readings in another order.
        const expected = [...uninterrupted.rollups].sort(byDeviceDay);
        for (const dir of [stopped, killed]) {
          const rollups = [...(await readRollups(dir))].sort(byDeviceDay);
          expect(rollups.map(({ mean: _mean, ...rest }) => rest), dir).toEqual(expected.map(({ mean: _mean, ...rest }) => rest));
          rollups.forEach((r, i) => {
            expect(r.mean).toBeCloseTo(expected[i]!.mean!, 9);
          });
        }
      } catch (error) {
        console.error(`IoT restart test failed with seed ${SEED} (replay: SLUICE_EXAMPLE_SEED=${SEED})\n${log.join('\n')}`);
        throw error;
      }
    },
    60_000,
  );
});
