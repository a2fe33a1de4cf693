import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { expectedSessions } from '../../examples/sessionization/reference.js';
import { GAP_MS, runSessionization } from '../../examples/sessionization/job.js';
import { runInterrupted } from '../support/child-job.js';
import { useTempDirs } from '../support/temp-dir.js';

/*
 * The restart test runs the job (fixtures/sessionization-job.mjs, on the built package) in child
 * processes stopped with SIGTERM or killed with SIGKILL at seeded points, restarted on the same
 * directory each time; then the same job in-process resumes on it to read the outputs.
 * SLUICE_EXAMPLE_SEED replays the points (the seed is printed when it fails).
 */
const SEED = Number(process.env.SLUICE_EXAMPLE_SEED ?? Math.floor(Math.random() * 2 ** 31));
// Small batches: a bounded run goes back to back, and the kills must land while batches are left.
const OPTIONS = { users: 25, visitsPerUser: 5, lateClicks: 8, files: 4, batchInterval: 20, maxRecordsPerBatch: 30 } as const;
const fixture = fileURLToPath(new URL('./fixtures/sessionization-job.mjs', import.meta.url));
const tempDir = useTempDirs('sluice-sessions-test-');

const byKey = <T extends { user: string }>(a: T, b: T): number => JSON.stringify(a).localeCompare(JSON.stringify(b));

describe('the sessionization example', () => {
  it('writes every session and routes exactly the late clicks to their own output', async () => {
    const lines: string[] = [];
    const result = await runSessionization({ ...OPTIONS, log: (l) => lines.push(l) });
    const expected = expectedSessions(result.input, GAP_MS);
    expect(result.finished).toBe(true);
    expect(expected.late.length).toBeGreaterThan(0);
    expect([...result.sessions].sort(byKey)).toEqual([...expected.sessions].sort(byKey));
    expect([...result.late].sort(byKey)).toEqual([...expected.late].sort(byKey));
    expect(result.badRecords).toBe(1);
    expect(lines.filter((l) => l.startsWith('batch '))).toHaveLength(result.batches);
  }, 60_000);

  it.skipIf(process.platform === 'win32')(
    'restarted on its checkpoint after clean stops and after SIGKILLs at seeded points, ends with the sessions and late clicks of an uninterrupted run',
    async () => {
      const log: string[] = [];
      try {
        const [uninterrupted, stopped, killed] = await Promise.all([runSessionization(OPTIONS), tempDir(), tempDir()]);
        const args = (dir: string): string[] => [dir, JSON.stringify(OPTIONS)];
        const [stops, kills] = await Promise.all([
          runInterrupted(fixture, args(stopped), { how: 'stop', times: 2, maxBatches: 4, next: seededRandom(SEED), log }),
          runInterrupted(fixture, args(killed), { how: 'kill', times: 3, maxBatches: 6, next: seededRandom(SEED + 1), log }),
        ]);
        expect(stops, 'runs stopped before they finished').toBeGreaterThan(0);
        expect(kills, 'runs killed before they finished').toBeGreaterThan(0);
        for (const outDir of [stopped, killed]) {
          // Resumed on a finished checkpoint, the job reads nothing new and returns what its sinks hold.
          const result = await runSessionization({ ...OPTIONS, outDir });
          expect(result.finished).toBe(true);
          expect(result.badRecords, outDir).toBe(0);
          // Every session and every late click once: none lost, none doubled.
          expect([...result.sessions].sort(byKey), outDir).toEqual([...uninterrupted.sessions].sort(byKey));
          expect([...result.late].sort(byKey), outDir).toEqual([...uninterrupted.late].sort(byKey));
        }
      } catch (error) {
        console.error(`sessionization restart test failed with seed ${SEED} (replay: SLUICE_EXAMPLE_SEED=${SEED})\n${log.join('\n')}`);
        throw error;
      }
    },
    60_000,
  );
});
