import { randomBytes } from 'node:crypto';
import { jetstream, jetstreamManager, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll } from 'vitest';
import { NATS_URL } from '../../support/services.js';

/*
 * A connection to the test server for the NATS suites, and streams with random names (subjects
 * `<name>.>`) deleted after the file: suites never share a stream, and leave none behind.
 */

let connection: Promise<NatsConnection> | undefined;
const streams = new Set<string>();

/** The suite's connection (one per test file), closed after the file. */
export function testConnection(): Promise<NatsConnection> {
  connection ??= connect({ servers: NATS_URL });
  return connection;
}

/** The manager API on the suite's connection. */
export async function manager(): Promise<JetStreamManager> {
  return jetstreamManager(await testConnection());
}

/** A fresh stream `sluice_<prefix>_<random>` capturing `<name>.>`, deleted after the file. */
export async function newStream(prefix: string, config: Partial<StreamConfig> = {}): Promise<string> {
  const name = `sluice_${prefix}_${randomBytes(5).toString('hex')}`;
  streams.add(name);
  await (await manager()).streams.add({ name, subjects: [`${name}.>`], ...config });
  return name;
}

/** Publishes `payloads` on `subject` in order, each acknowledged before the next. */
export async function publish(subject: string, payloads: readonly (string | Uint8Array)[]): Promise<void> {
  const js = jetstream(await testConnection());
  for (const payload of payloads) await js.publish(subject, payload);
}

/** Every message of `stream`: its subject and payload text, in sequence order. */
export async function messagesOf(stream: string): Promise<{ subject: string; data: string }[]> {
  const js = jetstream(await testConnection());
  const info = await (await manager()).streams.info(stream);
  const out: { subject: string; data: string }[] = [];
  if (info.state.messages === 0) return out;
  const consumer = await js.consumers.get(stream);
  const iter = await consumer.fetch({ max_messages: info.state.messages, expires: 2000 });
  for await (const m of iter) {
    out.push({ subject: m.subject, data: m.string() });
    if (m.info.pending === 0) break;
  }
  return out;
}

afterAll(async () => {
  if (connection === undefined) return;
  const jsm = await manager();
  for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
  await (await connection).close();
  connection = undefined;
});
