import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { startChildJob } from '../../support/child-job.js';
import { describeWith, NATS, NATS_URL, POSTGRES, POSTGRES_URL, reachable } from '../../support/services.js';
import { useTempDir } from '../../support/temp-dir.js';
import { dropAfterFile, rowsOf, tableName } from '../postgres/pg-harness.js';
import { newStream, testConnection } from './nats-harness.js';

/*
 * Exactly-once from JetStream into PostgreSQL across real crashes: the test publishes TOTAL
 * messages `{ i, key }` to a stream, then a child process runs a checkpointed job
 * (fixtures/nats-crash-job.mjs, on the built package) reading the stream by sequence through a
 * keyed running count into two PostgreSQL sinks, killed with SIGKILL at random moments, restarted
 * on its checkpoint each time, then left to finish. Its tables must equal those of an
 * uninterrupted run over the same stream. SLUICE_NATS_CRASH_KILLS sets the kills (default 20),
 * SLUICE_CRASH_SEED replays a schedule (printed when the test fails).
 */

const KILLS = Number(process.env.SLUICE_NATS_CRASH_KILLS ?? 20);
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = Math.max(2000, KILLS * 200);
const KEYS = 7;
const MIN_DELAY_MS = 30;
const MAX_DELAY_MS = 400;
const TIMEOUT_MS = Math.max(120_000, KILLS * 6_000);
const job = fileURLToPath(new URL('./fixtures/nats-crash-job.mjs', import.meta.url));
const dir = useTempDir();

/** Starts the job on `checkpoint` reading `stream` into the tables of `prefix`; `onReady` hears its `ready`. */
function start(checkpoint: string, stream: string, prefix: string, onReady: (kill: () => void) => void = () => undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const run = startChildJob(job, [checkpoint, NATS_URL, stream, POSTGRES_URL, prefix, String(TOTAL)]);
  run.onLine((line) => {
    if (line === 'ready') onReady(() => run.child.kill('SIGKILL'));
  });
  return run.exit;
}

/** Runs the job to its end; fails when it exits otherwise than with 0. */
async function runToEnd(checkpoint: string, stream: string, prefix: string): Promise<void> {
  const { code, signal, stderr } = await start(checkpoint, stream, prefix);
  if (code !== 0) throw new Error(`the job exited with ${code ?? signal}:\n${stderr}`);
}

/** A fresh table prefix whose two tables are dropped after the file. */
function prefixOf(name: string): string {
  const prefix = tableName(name);
  dropAfterFile(`${prefix}_counts`);
  dropAfterFile(`${prefix}_totals`);
  return prefix;
}

/** Publishes TOTAL messages `{ i, key }` to `stream`, 500 in flight at a time. */
async function fill(stream: string): Promise<void> {
  const js = jetstream(await testConnection());
  for (let from = 0; from < TOTAL; from += 500) {
    const acks = [];
    for (let i = from; i < Math.min(TOTAL, from + 500); i++) acks.push(js.publish(`${stream}.orders`, JSON.stringify({ i, key: `k${(i * 31) % KEYS}` })));
    await Promise.all(acks);
  }
}

// Both servers are needed: the suite is skipped (or fails under SLUICE_REQUIRE_SERVICES=1) naming PostgreSQL when it is down, else NATS when that is.
const needed = (await reachable(POSTGRES)) ? NATS : POSTGRES;

await describeWith(needed, 'exactly-once from JetStream into PostgreSQL across real crashes (SIGKILL)', () => {
  it(
    `a job killed ${KILLS} times at random moments and restarted on its checkpoint leaves the tables of an uninterrupted run`,
    async () => {
      const stream = await newStream('crash');
      await fill(stream);
      const straight = prefixOf('nats_straight');
      const crashed = prefixOf('nats_crashed');
      const next = seededRandom(SEED);
      const log: string[] = [];
      try {
        await Promise.all([
          runToEnd(join(dir(), 'straight'), stream, straight),
          (async () => {
            for (let k = 0; k < KILLS; k++) {
              const delay = Math.round(MIN_DELAY_MS + next() * (MAX_DELAY_MS - MIN_DELAY_MS));
              let timer: NodeJS.Timeout | undefined;
              const { code, signal, stderr } = await start(join(dir(), 'crashed'), stream, crashed, (kill) => (timer = setTimeout(kill, delay)));
              clearTimeout(timer);
              if (signal === 'SIGKILL') {
                const written = await rowsOf(`${crashed}_counts`, 'i').catch(() => []);
                log.push(`kill ${k}: ${delay} ms after it was ready, ${written.length} rows written`);
                continue;
              }
              if (code !== 0) throw new Error(`restart ${k} exited with ${code ?? signal} instead of being killed:\n${stderr}`);
              log.push(`kill ${k}: the job finished before ${delay} ms`);
              break;
            }
            await runToEnd(join(dir(), 'crashed'), stream, crashed);
          })(),
        ]);
        const counts = await rowsOf(`${crashed}_counts`, 'i');
        expect(counts.map((r) => r.i)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
        expect(counts).toEqual(await rowsOf(`${straight}_counts`, 'i'));
        const byKey = new Map<string, number[]>();
        for (const { key, n } of counts as { key: string; n: number }[]) byKey.set(key, [...(byKey.get(key) ?? []), n]);
        for (const [key, ns] of byKey) expect(ns, key).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
        const totals = await rowsOf(`${crashed}_totals`, 'key');
        expect(totals).toEqual(await rowsOf(`${straight}_totals`, 'key'));
        expect(totals).toEqual([...byKey].sort(([a], [b]) => a.localeCompare(b)).map(([key, ns]) => ({ key, total: ns.length })));
        if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
      } catch (error) {
        console.error(`JetStream crash test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_NATS_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
});
