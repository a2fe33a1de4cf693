import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { startChildJob } from '../../support/child-job.js';
import { describeWith, POSTGRES, POSTGRES_URL } from '../../support/services.js';
import { useTempDir } from '../../support/temp-dir.js';
import { dropAfterFile, rowsOf, tableName } from './pg-harness.js';

/*
 * A stream-static join across real crashes: fixtures/table-crash-job.mjs joins a rate source with
 * a postgresTable over a totals table that the same job rewrites every batch, and is killed with
 * SIGKILL at random moments and restarted on its checkpoint, then left to finish. Every row of
 * the joined table records the total its key had in the version of the table its batch joined
 * against: the crashed run's joined table must equal that of a run that never crashed, row for
 * row, batches replayed after the totals table changed included (they join against the logged
 * version, and refreshes come at the same batches). SLUICE_TABLE_CRASH_KILLS sets the kills
 * (default 8), SLUICE_CRASH_SEED replays a schedule (printed when the test fails).
 */

const KILLS = Number(process.env.SLUICE_TABLE_CRASH_KILLS ?? 8);
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = 3000;
const MIN_DELAY_MS = 30;
const MAX_DELAY_MS = 500;
const job = fileURLToPath(new URL('./fixtures/table-crash-job.mjs', import.meta.url));
const dir = useTempDir();

function start(checkpoint: string, prefix: string, onReady: (kill: () => void) => void = () => undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const run = startChildJob(job, [checkpoint, POSTGRES_URL, prefix, String(TOTAL)]);
  run.onLine((line) => {
    if (line === 'ready') onReady(() => run.child.kill('SIGKILL'));
  });
  return run.exit;
}

async function runToEnd(checkpoint: string, prefix: string): Promise<void> {
  const { code, signal, stderr } = await start(checkpoint, prefix);
  if (code !== 0) throw new Error(`the job exited with ${code ?? signal}:\n${stderr}`);
}

function prefixOf(name: string): string {
  const prefix = tableName(name);
  dropAfterFile(`${prefix}_joined`);
  dropAfterFile(`${prefix}_totals`);
  return prefix;
}

await describeWith(POSTGRES, 'a stream-static join with postgresTable across real crashes (SIGKILL)', () => {
  it(`a job killed up to ${KILLS} times and restarted joins every row against the same version of the table as a run that never crashed`, async () => {
    const straight = prefixOf('table_straight');
    const crashed = prefixOf('table_crashed');
    const next = seededRandom(SEED);
    const log: string[] = [];
    try {
      await runToEnd(join(dir(), 'straight'), straight);
      for (let k = 0; k < KILLS; k++) {
        const delay = Math.round(MIN_DELAY_MS + next() * (MAX_DELAY_MS - MIN_DELAY_MS));
        let timer: NodeJS.Timeout | undefined;
        const { code, signal, stderr } = await start(join(dir(), 'crashed'), crashed, (kill) => (timer = setTimeout(kill, delay)));
        clearTimeout(timer);
        if (signal === 'SIGKILL') {
          const written = await rowsOf(`${crashed}_joined`, 'i').catch(() => []);
          log.push(`kill ${k}: ${delay} ms after it was ready, ${written.length} rows written`);
          continue;
        }
        if (code !== 0) throw new Error(`restart ${k} exited with ${code ?? signal} instead of being killed:\n${stderr}`);
        log.push(`kill ${k}: the job finished before ${delay} ms`);
        break;
      }
      await runToEnd(join(dir(), 'crashed'), crashed);
      const expected = await rowsOf(`${straight}_joined`, 'i');
      expect(expected.map((r) => r.i)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
      // The table changed under the job: rows joined against many versions.
      expect(new Set(expected.map((r) => r.seen)).size).toBeGreaterThan(10);
      expect(await rowsOf(`${crashed}_joined`, 'i')).toEqual(expected);
      expect(await rowsOf(`${crashed}_totals`, 'key')).toEqual(await rowsOf(`${straight}_totals`, 'key'));
      if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
    } catch (error) {
      console.error(`postgresTable crash test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_TABLE_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
      throw error;
    }
  }, 240_000);
});
