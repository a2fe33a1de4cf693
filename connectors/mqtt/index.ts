/**
 * `sluice/mqtt`: an MQTT source, on mqtt.js. Needs the optional peer dependency `mqtt`
 * (`npm install mqtt`); `import 'sluice'` never loads it.
 */
export { mqttSource, type MqttPayloadFormat, type MqttRecord, type MqttSourceOptions } from './mqtt-source.js';
