import mqtt from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { SluiceError, type BadRecord, type InputDStream, type InputOptions, type StreamingContext } from 'sluice';
import { ReceivedLines, type Offset, type Source, type SourceEnvironment, type SourceRead } from 'sluice/extend';
import { decoderOf, rawText, type MessageDecoder } from '../nats/message-format.js';
import { decodeMessage, encodeMessage, entryPacketId, redeliveryKey } from './message-log.js';

/** A record of an MQTT source: the message's topic, when the source received it, and its decoded payload. */
export interface MqttRecord<T> {
  /** The topic the message was published to. */
  readonly topic: string;
  /**
   * When the source received the message, in ms of the context's clock (MQTT 3.1.1 and 5 carry no
   * broker timestamp). Logged with the message, so a replay after a restart gives the same time.
   */
  readonly time: number;
  /** The payload, decoded by `format`. */
  readonly value: T;
}

/** How {@link mqttSource} decodes payloads: JSON, UTF-8 text, the bytes, or a function of the bytes and the topic (throw for a bad record). */
export type MqttPayloadFormat<T> = 'json' | 'text' | 'bytes' | ((payload: Uint8Array, topic: string) => T);

/** Options of {@link mqttSource}. */
export interface MqttSourceOptions<T> extends InputOptions {
  /** The broker (`mqtt://127.0.0.1:1883`, `mqtts://...`, `ws://...`). */
  readonly url: string;
  /** The topic filters subscribed to (`'sensors/+/temperature'`, `'#'`). */
  readonly topics: string | readonly string[];
  /** The subscription's QoS: 1 (default: at least once from the broker, exactly once into batches with a checkpoint) or 0 (at most once). */
  readonly qos?: 0 | 1;
  /**
   * The MQTT client id, stable across restarts: the broker keeps the session (the subscription and
   * the QoS 1 messages published while the job is down) under it. Required for QoS 1.
   */
  readonly clientId?: string;
  /** How a payload becomes a value: `'json'` (default), `'text'` (UTF-8), `'bytes'`, or a function (throw for a bad record). */
  readonly format?: MqttPayloadFormat<T>;
  /** User name and password for the broker, if it asks for them. */
  readonly username?: string;
  readonly password?: string;
  /**
   * Received but uncommitted messages above which the source stops taking messages from the
   * connection (default 10 000); it goes on once commits bring them down to half of this.
   */
  readonly highWaterMark?: number;
  /** Milliseconds between a lost connection and the next attempt (default 1000). */
  readonly reconnectPeriod?: number;
}

/**
 * Subscribes to MQTT topics (mqtt.js 5). MQTT cannot replay, so with a checkpoint every message
 * goes through the receiver write-ahead log: it is written to the log before it joins a batch, and
 * a QoS 1 message is acknowledged (PUBACK) only once that write is durable. With a persistent
 * session (`clean: false` under the stable `clientId`), the broker keeps what it has not had
 * acknowledged, and what is published while the job is down, and sends it after a restart; a
 * message the broker sends again (DUP) because its PUBACK was lost is recognised by packet id,
 * topic and payload and logged once. So each message is in exactly one batch.
 *
 * Without a checkpoint the source is not replayable: messages live in memory until committed.
 * Offsets count the messages received. A payload `format` cannot decode is a bad record located
 * at `topic#index`. A lost connection is logged at warn and mqtt.js reconnects every
 * `reconnectPeriod` ms; with QoS 1 and a persistent session nothing is lost meanwhile.
 *
 * @throws TypeError for missing or malformed options, or QoS 1 without a `clientId`.
 * @example
 * const readings = mqttSource(ctx, { url: 'mqtt://127.0.0.1:1883', topics: 'sensors/#', clientId: 'sensor-rollups' });
 */
export function mqttSource<T = unknown>(ctx: StreamingContext, options: MqttSourceOptions<T>): InputDStream<MqttRecord<T>> {
  return ctx.source(new MqttSource<T>(options), options);
}

/** The source behind {@link mqttSource} (exported for the connector's own tests). */
export class MqttSource<T> implements Source<MqttRecord<T>> {
  readonly kind = 'mqtt';
  readonly #url: string;
  readonly #topics: readonly string[];
  readonly #qos: 0 | 1;
  readonly #clientId: string | undefined;
  readonly #decode: MessageDecoder<T>;
  readonly #auth: { readonly username?: string; readonly password?: string };
  readonly #highWaterMark: number;
  readonly #reconnectPeriod: number;
  readonly #messages = new ReceivedLines();
  /** Per packet id, the redelivery key of the last message logged with it. */
  readonly #lastById = new Map<number, string>();
  /** Acknowledgements held back while the source holds more than `highWaterMark` messages. */
  #held: (() => void)[] = [];
  #committed = 0;
  #env: SourceEnvironment | undefined;
  #client: MqttClient | undefined;

  constructor(options: MqttSourceOptions<T>) {
    const what = 'mqttSource';
    if (typeof options !== 'object' || options === null) throw new TypeError(`${what}: give options: { url, topics, clientId }.`);
    const { url, topics, qos = 1, clientId, format = 'json', highWaterMark = 10_000, reconnectPeriod = 1000 } = options;
    if (typeof url !== 'string' || url === '') throw new TypeError(`${what}: url must be a non-empty string such as 'mqtt://127.0.0.1:1883'.`);
    const list = typeof topics === 'string' ? [topics] : Array.isArray(topics) ? [...(topics as readonly unknown[])] : [];
    if (list.length === 0 || list.some((t) => typeof t !== 'string' || t === '')) throw new TypeError(`${what}: topics must be a topic filter such as 'sensors/#', or a non-empty array of them.`);
    if (qos !== 0 && qos !== 1) throw new TypeError(`${what}: qos must be 0 or 1, got ${JSON.stringify(qos)} (QoS 1 with a checkpoint already gives exactly once).`);
    if (qos === 1 && (typeof clientId !== 'string' || clientId === '')) {
      throw new TypeError(`${what}: QoS 1 needs a clientId, stable across restarts (such as 'my-job'): the broker keeps the session, and the messages published while the job is down, under it. Give clientId, or qos: 0 for at-most-once delivery.`);
    }
    if (clientId !== undefined && (typeof clientId !== 'string' || clientId === '')) throw new TypeError(`${what}: clientId must be a non-empty string.`);
    if (!Number.isSafeInteger(highWaterMark) || highWaterMark < 1) throw new TypeError(`${what}: highWaterMark must be a positive integer, got ${highWaterMark}.`);
    if (!Number.isFinite(reconnectPeriod) || reconnectPeriod < 1) throw new TypeError(`${what}: reconnectPeriod must be a positive number of ms, got ${reconnectPeriod}.`);
    this.#url = url;
    this.#topics = list as string[];
    this.#qos = qos;
    this.#clientId = clientId;
    this.#decode = decoderOf<T>(what, format);
    this.#auth = { ...(options.username === undefined ? {} : { username: options.username }), ...(options.password === undefined ? {} : { password: options.password }) };
    this.#highWaterMark = highWaterMark;
    this.#reconnectPeriod = reconnectPeriod;
  }

  /** Replayable when the context is checkpointed (messages are then written to its write-ahead log first). */
  get replayable(): boolean {
    return this.#messages.durable;
  }

  /** The number of messages received and visible to batches (the offset after the last one). */
  get received(): number {
    return this.#messages.end;
  }

  /** Messages received and not yet committed, and whether acknowledgements are held back for them. */
  get buffered(): { readonly messages: number; readonly paused: boolean } {
    return { messages: this.#messages.bufferedLines, paused: this.#held.length > 0 };
  }

  /**
   * Connects and subscribes. Resolves once connected; fails with `SOURCE_FAILED` when the first
   * attempt cannot connect or subscribe.
   */
  async start(env: SourceEnvironment): Promise<void> {
    if (this.#env !== undefined) throw new TypeError(`mqttSource ${env.name} was already started; create one source per context.`);
    this.#env = env;
    const wal = env.writeAheadLog;
    if (wal !== undefined) {
      const [first, end] = [await wal.first(), await wal.end()];
      // Messages logged and not yet committed: a redelivery of one of them is not logged again.
      for (const entry of first < end ? await wal.read(first, end) : []) this.#lastById.set(entryPacketId(entry), redeliveryKey(entry));
      await this.#messages.attach(wal);
      this.#committed = this.#messages.end;
    }
    const client = mqtt.connect(this.#url, {
      ...this.#auth,
      ...(this.#clientId === undefined ? {} : { clientId: this.#clientId }),
      clean: this.#qos === 0,
      reconnectPeriod: this.#reconnectPeriod,
      connectTimeout: 5_000,
      manualConnect: true,
    });
    client.handleMessage = (packet, done) => {
      this.#receive(packet, done);
    };
    this.#client = client;
    await new Promise<void>((resolve, reject) => {
      const failed = (error: Error): void => {
        client.end(true);
        reject(this.#failed('could not connect', error));
      };
      client.once('error', failed);
      client.once('connect', () => {
        client.off('error', failed);
        client.subscribe([...this.#topics], { qos: this.#qos }, (error) => {
          if (error) failed(error);
          else resolve();
        });
      });
      client.connect();
    });
    client.on('connect', () => {
      env.logger.info({ url: this.#url }, 'mqtt source reconnected');
    });
    client.on('offline', () => {
      env.logger.warn({ url: this.#url, retryInMs: this.#reconnectPeriod }, 'mqtt source lost its connection; reconnecting');
    });
    client.on('error', (error) => {
      env.logger.warn({ url: this.#url, err: error }, 'mqtt source connection error');
    });
  }

  initialOffset(): Offset {
    return 0;
  }

  latestOffset(start: Offset, maxRecords: number): Offset {
    this.#messages.check();
    return Math.min(this.#messages.end, this.#count(start) + maxRecords);
  }

  async read(start: Offset, end: Offset): Promise<SourceRead<MqttRecord<T>>> {
    const from = this.#count(start);
    const entries = await this.#messages.read(from, this.#count(end));
    const records: MqttRecord<T>[] = [];
    let badRecords: BadRecord[] | undefined;
    const name = this.#env?.name ?? 'mqttSource';
    for (let i = 0; i < entries.length; i++) {
      let message;
      try {
        message = decodeMessage(entries[i] as string);
      } catch (error) {
        throw new SluiceError('CHECKPOINT_CORRUPT', `Source ${name}: write-ahead log entry ${from + i} is damaged (${(error as Error).message}).`, { source: name, cause: error });
      }
      try {
        records.push({ topic: message.topic, time: message.time, value: this.#decode(message.payload, message.topic) });
      } catch (error) {
        (badRecords ??= []).push({ source: name, raw: rawText(message.payload), reason: error instanceof Error ? error.message : String(error), location: `${message.topic}#${from + i + 1}` });
      }
    }
    return badRecords === undefined ? { records } : { records, badRecords };
  }

  commit(end: Offset): void {
    this.#committed = Math.max(this.#committed, this.#count(end));
    this.#messages.discardBefore(this.#committed);
    if (this.#held.length > 0 && this.#messages.bufferedLines <= this.#highWaterMark / 2) {
      const held = this.#held;
      this.#held = [];
      this.#env?.logger.debug({ messages: this.#messages.bufferedLines }, 'mqtt source resumed');
      for (const ack of held) ack();
    }
  }

  /** Stops receiving (closes the connection gracefully); what was received stays readable. */
  async stopReceiving(): Promise<void> {
    await this.#close(false);
    await this.#messages.flushed();
  }

  /** Closes the connection at once. */
  stop(): Promise<void> {
    return this.#close(true);
  }

  async #close(force: boolean): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    this.#held = [];
    if (client !== undefined) await client.endAsync(force);
  }

  /**
   * A message from the broker: logged (or kept in memory without a checkpoint), then acknowledged
   * once the log holds it; mqtt.js handles the next packet only after `done`.
   */
  #receive(packet: IPublishPacket, done: (error?: Error) => void): void {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const id = packet.qos === 0 ? 0 : (packet.messageId ?? 0);
    const entry = encodeMessage((this.#env as SourceEnvironment).clock.now(), id, packet.topic, payload);
    const key = redeliveryKey(entry);
    if (id !== 0 && packet.dup && this.#lastById.get(id) === key) {
      // Sent again because the broker did not get our PUBACK: it is logged already.
      done();
      return;
    }
    if (id !== 0) this.#lastById.set(id, key);
    this.#messages.add([entry], payload.length);
    if (packet.qos === 0) {
      done();
      return;
    }
    void this.#messages.flushed().then(() => {
      try {
        this.#messages.check();
      } catch {
        // Not durable: no PUBACK, so the broker keeps it; the next batch fails with the log's error.
        return;
      }
      if (this.#messages.bufferedLines > this.#highWaterMark) {
        if (this.#held.length === 0) this.#env?.logger.debug({ messages: this.#messages.bufferedLines }, 'mqtt source paused until commits drain it');
        this.#held.push(() => { done(); });
      } else {
        done();
      }
    });
  }

  #count(offset: Offset): number {
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      const name = this.#env?.name ?? 'mqttSource';
      throw new SluiceError('SOURCE_FAILED', `Source ${name}: offset ${JSON.stringify(offset)} is not a message count; was the checkpoint written by another source?`, { source: name });
    }
    return offset;
  }

  #failed(what: string, error: unknown): SluiceError {
    const name = this.#env?.name ?? 'mqttSource';
    return new SluiceError('SOURCE_FAILED', `Source ${name} ${what} to MQTT broker ${this.#url}: ${error instanceof Error ? error.message : String(error)}. Check that the broker is up and reachable.`, { source: name, cause: error });
  }
}
