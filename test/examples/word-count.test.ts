import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { readWordTotals, runWordCount, textLines } from '../../examples/word-count/job.js';
import { expectedWordCounts } from '../../examples/word-count/reference.js';
import { runInterrupted, type ChildJob } from '../support/child-job.js';
import { LineServer } from '../support/line-server.js';
import { useTempDirs } from '../support/temp-dir.js';

/*
 * The restart test runs the job (fixtures/word-count-job.mjs, on the built package) in child
 * processes stopped with SIGTERM or killed with SIGKILL at seeded points, restarted on the same
 * directory each time, against a line server here that sends each run the text from the line its
 * checkpoint holds (the job's `started` line says which), a chunk per batch the job completes.
 * SLUICE_EXAMPLE_SEED replays the points (the seed is printed when it fails).
 */
const SEED = Number(process.env.SLUICE_EXAMPLE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TIMES = 60;
const CHUNK = 20;
const fixture = fileURLToPath(new URL('./fixtures/word-count-job.mjs', import.meta.url));
const tempDir = useTempDirs('sluice-words-test-');

/** Serves each run of the job the lines after those it has received, a chunk at its start and one after each batch it prints. */
function serve(server: LineServer, lines: readonly string[]): (job: ChildJob) => void {
  return (job) => {
    let next = -1;
    let peer: Socket | undefined;
    const send = (): void => {
      if (peer === undefined || next >= lines.length) return;
      peer.write(lines.slice(next, next + CHUNK).map((line) => `${line}\n`).join(''));
      next += CHUNK;
    };
    job.onLine((line) => {
      const started = /^started: (\d+) lines received before/.exec(line);
      if (started !== null) {
        // The job connected during its start: its connection is the latest.
        peer = server.connections.at(-1);
        next = Number(started[1]);
        send();
      } else if (line.startsWith('batch ') && next >= 0) {
        send();
      }
    });
  };
}

describe('the word-count example', () => {
  it('counts every word sent over the socket exactly once', async () => {
    const lines: string[] = [];
    const result = await runWordCount({ times: 30, batchInterval: '20ms', log: (l) => lines.push(l) });
    expect(result.finished).toBe(true);
    expect(new Map(result.totals)).toEqual(expectedWordCounts(result.lines));
    expect(result.lines).toHaveLength(120);
    expect(lines.length).toBeGreaterThan(0);
  }, 30_000);

  it.skipIf(process.platform === 'win32')(
    'restarted on its checkpoint after clean stops and after SIGKILLs at seeded points, ends with the counts of an uninterrupted run',
    async () => {
      const log: string[] = [];
      const servers = await Promise.all([LineServer.listen(), LineServer.listen()]);
      try {
        const [uninterrupted, stopped, killed] = await Promise.all([runWordCount({ times: TIMES, batchInterval: 20 }), tempDir(), tempDir()]);
        const lines = textLines(TIMES);
        const args = (dir: string, server: LineServer): string[] => [dir, JSON.stringify({ times: TIMES, batchInterval: 20, port: server.port })];
        const [stops, kills] = await Promise.all([
          runInterrupted(fixture, args(stopped, servers[0]), { how: 'stop', times: 2, maxBatches: 4, next: seededRandom(SEED), log, onStart: serve(servers[0], lines) }),
          runInterrupted(fixture, args(killed, servers[1]), { how: 'kill', times: 3, maxBatches: 6, next: seededRandom(SEED + 1), log, onStart: serve(servers[1], lines) }),
        ]);
        expect(stops, 'runs stopped before they finished').toBeGreaterThan(0);
        expect(kills, 'runs killed before they finished').toBeGreaterThan(0);
        expect(new Map(uninterrupted.totals)).toEqual(expectedWordCounts(lines));
        // Every word of every line counted once: none lost, none doubled.
        for (const dir of [stopped, killed]) expect(await readWordTotals(dir), dir).toEqual(uninterrupted.totals);
      } catch (error) {
        console.error(`word-count restart test failed with seed ${SEED} (replay: SLUICE_EXAMPLE_SEED=${SEED})\n${log.join('\n')}`);
        throw error;
      } finally {
        await Promise.all(servers.map((server) => server.close()));
      }
    },
    60_000,
  );
});
