import pino from 'pino';
import { expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext, type BadRecord } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import type { SourceEnvironment } from 'sluice/extend';
import { mqttSource, type MqttRecord } from 'sluice/mqtt';
import { MemoryWriteAheadLog, sourceSuite } from 'sluice/testing';
import { MqttSource } from '../../../connectors/mqtt/mqtt-source.js';
import { describeWith, MQTT, MQTT_URL } from '../../support/services.js';
import { useTempDir } from '../../support/temp-dir.js';
import { clientIdFor, publish, topicName } from './mqtt-harness.js';

const dir = useTempDir();

/** Waits, in real time, until `ready()` holds (messages travel through the broker). */
async function eventually(ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface Job {
  readonly ctx: StreamingContext;
  readonly source: MqttSource<unknown>;
  readonly batches: unknown[][];
  readonly bad: BadRecord[];
}

/** A checkpointed job reading `topic` under `clientId`; `failOnce.armed` makes its first non-empty batch throw. */
function job(clock: ManualClock, checkpoint: string, topic: string, clientId: string, options: { maxRecordsPerBatch?: number; failOnce?: { armed: boolean } } = {}): Job {
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(checkpoint), defaultParallelism: 1 });
  const source = new MqttSource<unknown>({ url: MQTT_URL, topics: topic, clientId });
  const input = ctx.source(source, { name: 'mqtt', badRecords: 'deadLetter', ...(options.maxRecordsPerBatch === undefined ? {} : { maxRecordsPerBatch: options.maxRecordsPerBatch }) });
  const batches: unknown[][] = [];
  const bad: BadRecord[] = [];
  input.deadLetters.pipe(foreachBatch((records) => void bad.push(...records)));
  input.pipe(
    foreachBatch((records: readonly MqttRecord<unknown>[]) => {
      if (records.length > 0 && options.failOnce?.armed === true) {
        options.failOnce.armed = false;
        throw new Error('crash while the batch was being written');
      }
      batches.push(records.map((r) => r.value));
    }),
  );
  return { ctx, source, batches, bad };
}

await describeWith(MQTT, 'mqttSource on the live broker', () => {
  // One topic for the suite's cases (the records of two runs are compared, topics included); each
  // case has its own client id, so its own session, and sees only what is published while it is subscribed.
  const suiteTopic = topicName('suite');
  sourceSuite({
    test: it,
    factory: () => {
      const topic = suiteTopic;
      const clientId = clientIdFor('suite');
      const make = (): MqttSource<number> => new MqttSource<number>({ url: MQTT_URL, topics: topic, clientId });
      let source = make();
      let next = 0;
      return {
        source,
        writeAheadLog: new MemoryWriteAheadLog(),
        produce: async (n) => {
          const target = source.received + n;
          await publish(topic, Array.from({ length: n }, () => String(next++)));
          const current = source;
          await eventually(() => current.received >= target, `${n} more messages`);
        },
        reopen: () => (source = make()),
        cleanup: () => source.stop(),
      };
    },
  });

  it('cuts the messages into batches of at most maxRecordsPerBatch, in the order published', async () => {
    const topic = topicName('batches');
    const clock = new ManualClock();
    const { ctx, source, batches } = job(clock, dir(), topic, clientIdFor('batches'), { maxRecordsPerBatch: 2 });
    await ctx.start();
    await publish(topic, ['1', '2', '3', '4', '5']);
    await eventually(() => source.received === 5, 'five messages in the log');
    for (let i = 0; i < 3; i++) await clock.advance(1000);
    await ctx.stop();
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('gives a payload that is not JSON as a bad record located at topic#index, and the others as records', async () => {
    const topic = topicName('bad');
    const clock = new ManualClock();
    const { ctx, source, batches, bad } = job(clock, dir(), topic, clientIdFor('bad'));
    await ctx.start();
    await publish(topic, ['{"a":1}', 'not json', '2']);
    await eventually(() => source.received === 3, 'three messages in the log');
    await clock.advance(1000);
    await ctx.stop();
    expect(batches).toEqual([[{ a: 1 }, 2]]);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ source: 'mqtt', raw: 'not json', location: `${topic}#2` });
  });

  it('after a restart under the same clientId, delivers the messages published while the job was down, once each', async () => {
    const topic = topicName('down');
    const clientId = clientIdFor('down');
    const checkpoint = dir();
    const first = job(new ManualClock(), checkpoint, topic, clientId);
    await first.ctx.start();
    await publish(topic, ['1', '2']);
    await eventually(() => first.source.received === 2, 'two messages in the log');
    await (first.ctx as unknown as { clock: ManualClock }).clock.advance(1000);
    await first.ctx.stop();
    // Published while no job runs: the broker keeps them in the persistent session.
    await publish(topic, ['3', '4']);

    const later = new ManualClock(1000);
    const second = job(later, checkpoint, topic, clientId);
    await second.ctx.start();
    await eventually(() => second.source.received === 4, 'the two messages published while down');
    await later.advance(1000);
    await second.ctx.stop();
    expect([...first.batches, ...second.batches].flat()).toEqual([1, 2, 3, 4]);
  });

  it('replays once, after a restart, a message received and logged whose batch failed before it committed', async () => {
    const topic = topicName('replay');
    const clientId = clientIdFor('replay');
    const checkpoint = dir();
    const failOnce = { armed: true };
    const clock = new ManualClock();
    const first = job(clock, checkpoint, topic, clientId, { failOnce });
    await first.ctx.start();
    await publish(topic, ['1', '2']);
    await eventually(() => first.source.received === 2, 'two messages in the log');
    await clock.advance(1000);
    await expect(first.ctx.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    expect(first.batches.flat()).toEqual([]);

    const later = new ManualClock(1000);
    const second = job(later, checkpoint, topic, clientId, { failOnce });
    await second.ctx.start();
    // Acknowledged once logged: the broker does not send them again, the log gives them back.
    expect(second.source.received).toBe(2);
    await publish(topic, ['3']);
    await eventually(() => second.source.received === 3, 'the third message in the log');
    await later.advance(2000);
    await second.ctx.stop();
    expect(second.batches.flat()).toEqual([1, 2, 3]);
  });

  it('logs once a message the broker sends again (DUP) after a restart because it never got its PUBACK', async () => {
    const topic = topicName('dup');
    const clientId = clientIdFor('dup');
    const writeAheadLog = new MemoryWriteAheadLog();
    const env = (): SourceEnvironment => ({ clock: new ManualClock(), logger: pino({ level: 'silent' }), name: 'dup', writeAheadLog });
    // highWaterMark 1: the second message is logged, but its PUBACK is held back, and the source stops there.
    const first = new MqttSource<number>({ url: MQTT_URL, topics: topic, clientId, highWaterMark: 1 });
    await first.start(env());
    await publish(topic, ['1', '2', '3']);
    await eventually(() => first.received === 2 && first.buffered.paused, 'two messages logged, the second not acknowledged');
    await first.stop();
    // The broker sends the second (and third) again with DUP set: the second is logged already.
    const second = new MqttSource<number>({ url: MQTT_URL, topics: topic, clientId });
    await second.start(env());
    await eventually(() => second.received >= 3, 'the third message');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const read = await second.read(0, second.received);
    await second.stop();
    expect(read.records.map((r) => r.value)).toEqual([1, 2, 3]);
  });

  it('is not replayable without a checkpoint, and says so', async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    const source = new MqttSource<unknown>({ url: MQTT_URL, topics: topicName('plain'), qos: 0 });
    ctx.source(source, { name: 'plain' }).pipe(foreachBatch(() => undefined));
    await ctx.start();
    expect(source.replayable).toBe(false);
    await ctx.stop();
  });

  it('fails the start with SOURCE_FAILED naming the broker when it cannot connect', async () => {
    const ctx = new StreamingContext({ batchInterval: 1000, clock: new ManualClock() });
    mqttSource(ctx, { url: 'mqtt://127.0.0.1:1', topics: 't', clientId: clientIdFor('down') }).pipe(foreachBatch(() => undefined));
    await expect(ctx.start()).rejects.toMatchObject({ code: 'SOURCE_FAILED', message: expect.stringContaining('mqtt://127.0.0.1:1') as unknown });
  });
});

it('mqttSource: QoS 1 without a clientId is a TypeError that says why a stable one is needed', () => {
  expect(() => new MqttSource({ url: MQTT_URL, topics: 't' })).toThrow(/QoS 1 needs a clientId, stable across restarts/);
  expect(() => new MqttSource({ url: MQTT_URL, topics: [], clientId: 'x' })).toThrow(TypeError);
  expect(() => new MqttSource({ url: MQTT_URL, topics: 't', clientId: 'x', qos: 2 as 1 })).toThrow(/qos must be 0 or 1/);
  expect(() => new MqttSource({ url: MQTT_URL, topics: 't', clientId: 'x', format: 'xml' as 'json' })).toThrow(/format must be/);
});
