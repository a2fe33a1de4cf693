import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll } from 'vitest';
import { REDIS_URL } from '../../support/services.js';

/*
 * A client on the test Redis for the Redis suites, and random key names they delete after the
 * file: suites never share a key, and leave none behind.
 */

type Client = ReturnType<typeof createClient>;
let client: Client | undefined;
const keys = new Set<string>();

/** The suite's client (one per test file), closed after the file. */
export async function testRedis(): Promise<Client> {
  if (client === undefined) {
    client = createClient({ url: REDIS_URL });
    client.on('error', () => undefined);
    await client.connect();
  }
  return client;
}

/** A fresh key (`sluice-test:<prefix>:<random>`), deleted after the file. */
export function keyName(prefix: string): string {
  const key = `sluice-test:${prefix}:${randomBytes(5).toString('hex')}`;
  keys.add(key);
  return key;
}

/** Appends `values` (as JSON in field `value`) to stream `key`. */
export async function append(key: string, values: readonly unknown[]): Promise<void> {
  const redis = await testRedis();
  for (const value of values) await redis.sendCommand(['XADD', key, '*', 'value', JSON.stringify(value)]);
}

/** The values (field `value`, parsed) of stream `key`, in order. */
export async function streamValues(key: string): Promise<unknown[]> {
  const entries: [string, string[]][] = await (await testRedis()).sendCommand(['XRANGE', key, '-', '+']);
  return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf('value') + 1] as string) as unknown);
}

afterAll(async () => {
  if (client === undefined) return;
  if (keys.size > 0) await client.sendCommand(['DEL', ...keys]);
  await client.close();
  client = undefined;
});
