import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { seededRandom } from 'sluice/testing';
import { startChildJob } from '../../support/child-job.js';
import { describeWith, MQTT, MQTT_URL, POSTGRES_URL } from '../../support/services.js';
import { useTempDir } from '../../support/temp-dir.js';
import { dropAfterFile, rowsOf, tableName } from '../postgres/pg-harness.js';
import { clientIdFor, publish, topicName } from './mqtt-harness.js';

/*
 * Exactly-once from MQTT into PostgreSQL across real crashes: the connectors' crash job
 * (../crash/fixtures/crash-job.mjs) reads a topic with mqttSource (QoS 1, persistent
 * session) while a publisher publishes TOTAL messages { i, key }, and is killed with SIGKILL at
 * random moments and restarted on its checkpoint, then left to finish. MQTT may deliver in another
 * order after a restart, so the law is on sets, not on order: the crashed run's table holds every
 * message exactly once (its `i` are 0..TOTAL-1), each key's running counts are 1..n with no gap
 * or repeat, and the per-key totals equal those of an uninterrupted run. TOTAL stays under
 * Mosquitto's default max_queued_messages (1000), above which the broker drops QoS 1 messages
 * queued for a disconnected client. SLUICE_MQTT_CRASH_KILLS sets the kills (default 10),
 * SLUICE_CRASH_SEED replays a schedule (printed when the test fails).
 */

const KILLS = Number(process.env.SLUICE_MQTT_CRASH_KILLS ?? 10);
const SEED = Number(process.env.SLUICE_CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = 900;
const MIN_DELAY_MS = 30;
const MAX_DELAY_MS = 400;
const job = fileURLToPath(new URL('../crash/fixtures/crash-job.mjs', import.meta.url));
const dir = useTempDir();

function start(checkpoint: string, prefix: string, input: readonly string[], onReady: (kill: () => void) => void = () => undefined): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const run = startChildJob(job, [checkpoint, POSTGRES_URL, prefix, String(TOTAL), ...input]);
  run.onLine((line) => {
    if (line === 'ready') onReady(() => run.child.kill('SIGKILL'));
  });
  return run.exit;
}

async function runToEnd(checkpoint: string, prefix: string, input: readonly string[]): Promise<void> {
  const { code, signal, stderr } = await start(checkpoint, prefix, input);
  if (code !== 0) throw new Error(`the job exited with ${code ?? signal}:\n${stderr}`);
}

function prefixOf(name: string): string {
  const prefix = tableName(name);
  dropAfterFile(`${prefix}_counts`);
  dropAfterFile(`${prefix}_totals`);
  return prefix;
}

/** Opens the persistent session of `clientId` with its subscription, so that the broker queues what is published before the job first runs. */
async function openSession(clientId: string, topic: string): Promise<void> {
  const client = await mqtt.connectAsync(MQTT_URL, { clientId, clean: false });
  await client.subscribeAsync(topic, { qos: 1 });
  await client.endAsync();
}

const messages = Array.from({ length: TOTAL }, (_, i) => JSON.stringify({ i, key: `k${(i * 31) % 7}` }));

// Guarded by the broker, as the Redis crash case is by Redis: PostgreSQL is the sink of every crash test.
await describeWith(MQTT, 'exactly-once from MQTT into PostgreSQL across real crashes (SIGKILL)', () => {
  it(`a job reading an MQTT topic while it is published to, killed up to ${KILLS} times and restarted, holds every message once, with the per-key totals of an uninterrupted run`, async () => {
    const straight = prefixOf('mqtt_straight');
    const crashed = prefixOf('mqtt_crashed');
    const topic = { straight: topicName('crash-straight'), crashed: topicName('crash-crashed') };
    const client = { straight: clientIdFor('crash-straight'), crashed: clientIdFor('crash-crashed') };
    await Promise.all([openSession(client.straight, topic.straight), openSession(client.crashed, topic.crashed)]);
    const input = (run: 'straight' | 'crashed'): string[] => ['mqtt', MQTT_URL, topic[run], client[run]];
    const next = seededRandom(SEED);
    const log: string[] = [];
    try {
      await Promise.all([
        publish(topic.straight, messages),
        publish(topic.crashed, messages),
        runToEnd(join(dir(), 'straight'), straight, input('straight')),
        (async () => {
          for (let k = 0; k < KILLS; k++) {
            const delay = Math.round(MIN_DELAY_MS + next() * (MAX_DELAY_MS - MIN_DELAY_MS));
            let timer: NodeJS.Timeout | undefined;
            const { code, signal, stderr } = await start(join(dir(), 'crashed'), crashed, input('crashed'), (kill) => (timer = setTimeout(kill, delay)));
            clearTimeout(timer);
            if (signal === 'SIGKILL') {
              const written = await rowsOf(`${crashed}_counts`, 'i').catch(() => []);
              log.push(`kill ${k}: ${delay} ms after it was ready, ${written.length} rows written`);
              continue;
            }
            if (code !== 0) throw new Error(`restart ${k} exited with ${code ?? signal} instead of being killed:\n${stderr}`);
            log.push(`kill ${k}: the job finished before ${delay} ms`);
            return;
          }
          await runToEnd(join(dir(), 'crashed'), crashed, input('crashed'));
        })(),
      ]);
      const counts = (await rowsOf(`${crashed}_counts`, 'i')) as { key: string; n: number; i: number }[];
      expect(counts.map((r) => r.i)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
      const byKey = new Map<string, number[]>();
      for (const { key, n } of counts) byKey.set(key, [...(byKey.get(key) ?? []), n]);
      for (const [key, ns] of byKey) expect(ns.toSorted((a, b) => a - b), key).toEqual(Array.from({ length: ns.length }, (_, i) => i + 1));
      const totals = await rowsOf(`${crashed}_totals`, 'key');
      expect(totals).toEqual(await rowsOf(`${straight}_totals`, 'key'));
      expect(totals).toEqual([...byKey].sort(([a], [b]) => a.localeCompare(b)).map(([key, ns]) => ({ key, total: ns.length })));
      expect((await rowsOf(`${straight}_counts`, 'i')).map((r) => r.i)).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
      if (process.env.SLUICE_CRASH_VERBOSE !== undefined) console.log(`kill seed ${SEED}\n${log.join('\n')}`);
    } catch (error) {
      console.error(`MQTT crash test failed with kill seed ${SEED} (replay: SLUICE_CRASH_SEED=${SEED} SLUICE_MQTT_CRASH_KILLS=${KILLS})\n${log.join('\n')}`);
      throw error;
    }
  }, 180_000);
});
