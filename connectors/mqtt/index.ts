/**
 * `sluice/mqtt`: an MQTT source, on mqtt.js. Needs the optional peer dependency `mqtt`
 * (`npm install mqtt`); `import 'sluice'` never loads it.
 */
export type { MessageDecoder, MessageFormat } from '../nats/message-format.js';
export { mqttSource, type MqttRecord, type MqttSourceOptions } from './mqtt-source.js';
