import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll } from 'vitest';
import { MQTT_URL } from '../../support/services.js';

/*
 * A publisher on the test broker for the MQTT suites, random topic names and client ids (suites
 * never share one), and the sessions those client ids left on the broker, ended after the file.
 */

let publisher: MqttClient | undefined;
const clientIds = new Set<string>();

/** A fresh topic (`sluice-test/<prefix>/<random>`). */
export function topicName(prefix: string): string {
  return `sluice-test/${prefix}/${randomBytes(5).toString('hex')}`;
}

/** A fresh client id, whose persistent session is removed after the file. */
export function clientIdFor(prefix: string): string {
  const id = `sluice-test-${prefix}-${randomBytes(5).toString('hex')}`;
  clientIds.add(id);
  return id;
}

/** Publishes `payloads` to `topic` at QoS 1, each acknowledged by the broker before the next. */
export async function publish(topic: string, payloads: readonly (string | Buffer)[]): Promise<void> {
  publisher ??= await mqtt.connectAsync(MQTT_URL, { clientId: `sluice-test-pub-${randomBytes(4).toString('hex')}` });
  for (const payload of payloads) await publisher.publishAsync(topic, payload, { qos: 1 });
}

afterAll(async () => {
  await publisher?.endAsync();
  publisher = undefined;
  // A clean connection under each id ends the session the broker kept for it.
  for (const clientId of clientIds) {
    const client = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true });
    await client.endAsync();
  }
  clientIds.clear();
});
