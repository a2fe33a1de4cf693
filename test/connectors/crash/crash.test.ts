import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { startChildJob } from '../../support/child-job.js';
import { jetstream } from '@nats-io/jetstream';
import { describeWith, NATS, NATS_URL, POSTGRES, POSTGRES_URL, REDIS, REDIS_URL } from '../../support/services.js';
import { newStream, testConnection } from '../nats/nats-harness.js';
import { append, keyName } from '../redis/redis-harness.js';
import { useTempDir } from '../../support/temp-dir.js';
import { dropAfterFile, rowsOf, tableName } from '../postgres/pg-harness.js';

/*
 * Exactly-once into PostgreSQL across real crashes: a child process runs a checkpointed job
 * (fixtures/crash-job.mjs, on the built package) from a rate source, a Redis stream or a JetStream
 * stream into two PostgreSQL sinks,
 * and is killed with SIGKILL at random moments, restarted on its checkpoint each time, then left
 * to finish. Its tables must equal those of an uninterrupted run: every row once, every key's
 * running count 1..n, the same totals. SLUICE_CONNECTOR_CRASH_KILLS sets the kills of each job
 * (default 25),
 * SLUICE_CRASH_SEED replays a schedule (printed when the test fails).
 */

const KILLS = Number(process.env.SLUICE_CONNECTOR_CRASH_KILLS ?? 25);
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = Math.max(2000, KILLS * 200);
const MIN_DELAY_MS = 30;
const MAX_DELAY_MS = 400;
const TIMEOUT_MS = Math.max(120_000, KILLS * 6_000);
const job = fileURLToPath(new URL('./fixtures/crash-job.mjs', import.meta.url));
const dir = useTempDir();

/** Starts the job on `checkpoint` writing to the tables of `prefix`; `onReady` hears its `ready`. */
function start(checkpoint: string, prefix: string, input: readonly string[], onReady: (kill: () => void) => void = () => undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const run = startChildJob(job, [checkpoint, POSTGRES_URL, prefix, String(TOTAL), ...input]);
  run.onLine((line) => {
    if (line === 'ready') onReady(() => run.child.kill('SIGKILL'));
  });
  return run.exit;
}

/** Runs the job to its end; fails when it exits otherwise than with 0. */
async function runToEnd(checkpoint: string, prefix: string, input: readonly string[]): Promise<void> {
  const { code, signal, stderr } = await start(checkpoint, prefix, input);
  if (code !== 0) throw new Error(`the job exited with ${code ?? signal}:\n${stderr}`);
}

/** A fresh table prefix whose two tables are dropped after the file. */
function prefixOf(name: string): string {
  const prefix = tableName(name);
  dropAfterFile(`${prefix}_counts`);
  dropAfterFile(`${prefix}_totals`);
  return prefix;
}

/**
 * Runs the job straight and with kills, from `source` (its fixture arguments; `setUp` writes the
 * input a run reads, given the run's name), and compares the tables.
 */
function crashCase(title: string, seed: number, source: (run: string) => readonly string[], setUp: (run: string) => Promise<void> = () => Promise.resolve()): void {
  it(
    `a job ${title}, killed ${KILLS} times at random moments and restarted on its checkpoint, leaves the tables of an uninterrupted run`,
    async () => {
      const straight = prefixOf('straight');
      const crashed = prefixOf('crashed');
      await Promise.all([setUp('straight'), setUp('crashed')]);
      const next = seededRandom(seed);
      const log: string[] = [];
      try {
        await Promise.all([
          runToEnd(join(dir(), 'straight'), straight, source('straight')),
          (async () => {
            for (let k = 0; k < KILLS; k++) {
              const delay = Math.round(MIN_DELAY_MS + next() * (MAX_DELAY_MS - MIN_DELAY_MS));
              let timer: NodeJS.Timeout | undefined;
              const { code, signal, stderr } = await start(join(dir(), 'crashed'), crashed, source('crashed'), (kill) => (timer = setTimeout(kill, delay)));
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
            await runToEnd(join(dir(), 'crashed'), crashed, source('crashed'));
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
        if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${seed}\n${log.join('\n')}`);
      } catch (error) {
        console.error(`PostgreSQL crash test (${title}) failed with kill seed ${seed} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_CONNECTOR_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
        throw error;
      }
    },
    TIMEOUT_MS,
  );
}

await describeWith(POSTGRES, 'exactly-once into PostgreSQL across real crashes (SIGKILL)', () => {
  crashCase('reading a rate source', SEED, () => []);
});

await describeWith([POSTGRES, REDIS], 'exactly-once from Redis Streams into PostgreSQL across real crashes (SIGKILL)', () => {
  const streams = new Map<string, string>();
  crashCase(
    'reading a Redis stream',
    SEED + 1,
    (run) => ['redis', REDIS_URL, streams.get(run) as string],
    async (run) => {
      const key = keyName(`crash-${run}`);
      streams.set(run, key);
      await append(key, Array.from({ length: TOTAL }, (_, i) => ({ i, key: `k${(i * 31) % 7}` })));
    },
  );
});

await describeWith([POSTGRES, NATS], 'exactly-once from JetStream into PostgreSQL across real crashes (SIGKILL)', () => {
  const streams = new Map<string, string>();
  crashCase(
    'reading a JetStream stream',
    SEED + 2,
    (run) => ['nats', NATS_URL, streams.get(run) as string],
    async (run) => {
      const stream = await newStream(`crash_${run}`);
      streams.set(run, stream);
      const js = jetstream(await testConnection());
      for (let from = 0; from < TOTAL; from += 500) {
        const acks = [];
        for (let i = from; i < Math.min(TOTAL, from + 500); i++) acks.push(js.publish(`${stream}.orders`, JSON.stringify({ i, key: `k${(i * 31) % 7}` })));
        await Promise.all(acks);
      }
    },
  );
});
