import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';

/*
 * Real crashes for the interval join: a child process (fixtures/join-kill-job.mjs, on the built
 * package) runs a checkpointed full outer interval join and is killed with SIGKILL at random
 * moments, restarted on the same checkpoint each time, then left to finish. Its joined rows, batch
 * by batch, must equal an uninterrupted run's. SLUICE_CRASH_SEED replays a kill schedule (the seed
 * is printed when the test fails).
 */
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const KILLS = 8;
const TOTAL = 6000;
const job = fileURLToPath(new URL('./fixtures/join-kill-job.mjs', import.meta.url));
const repo = fileURLToPath(new URL('../../../', import.meta.url));

type Row = [string, number | null, number | null];

/** Runs the job once; kills it `killAfter` ms after it is ready (undefined: lets it finish). Whether it was killed. */
async function run(checkpoint: string, out: string, killAfter: number | undefined): Promise<boolean> {
  const child = spawn(process.execPath, [job, checkpoint, out, String(TOTAL)], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let timer: NodeJS.Timeout | undefined;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    if (killAfter !== undefined && chunk.includes('ready')) timer ??= setTimeout(() => child.kill('SIGKILL'), killAfter);
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  clearTimeout(guard);
  if (signal === 'SIGKILL' && killAfter !== undefined) return true;
  if (code !== 0) throw new Error(`the job exited with ${code ?? signal}:\n${stderr}`);
  return false;
}

/** The non-empty batch files of the data batches, by batch id. */
async function joined(out: string): Promise<Map<number, Row[]>> {
  const dir = join(out, 'joined');
  const files = (await readdir(dir)).filter((name) => /^batch-\d+\.json$/.test(name));
  const byId = new Map<number, Row[]>();
  for (const name of files) {
    const id = Number(/\d+/.exec(name)?.[0]);
    const rows = JSON.parse(await readFile(join(dir, name), 'utf8')) as Row[];
    // After the last data batch the outcome depends on when the graceful stop came, not on the crashes.
    if (id < TOTAL / 20 && rows.length > 0) byId.set(id, rows);
  }
  return new Map([...byId].sort(([a], [b]) => a - b));
}

describe('intervalJoin under SIGKILL', () => {
  it(`killed ${KILLS} times at random moments and restarted on its checkpoint, it emits the rows of an uninterrupted run, batch by batch`, async () => {
    const root = await mkdtemp(join(tmpdir(), 'sluice-join-kill-'));
    const log: string[] = [];
    try {
      await run(join(root, 'cp-straight'), join(root, 'straight'), undefined);
      const random = seededRandom(SEED);
      for (let k = 0; k < KILLS; k++) {
        const delay = Math.round(30 + random() * 370);
        const killed = await run(join(root, 'cp-crashed'), join(root, 'crashed'), delay);
        log.push(`run ${k}: ${killed ? `killed ${delay} ms after ready` : 'finished first'}`);
        if (!killed) break;
      }
      await run(join(root, 'cp-crashed'), join(root, 'crashed'), undefined);
      const straight = await joined(join(root, 'straight'));
      expect(straight.size).toBeGreaterThan(TOTAL / 40);
      expect(await joined(join(root, 'crashed')), `seed ${SEED} (SLUICE_CRASH_SEED=${SEED} replays it)\n${log.join('\n')}`).toEqual(straight);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000);
});
