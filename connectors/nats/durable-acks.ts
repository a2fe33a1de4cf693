import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

/*
 * The durable consumer of a JetStream source with `durable`: it reads nothing for the job (the
 * job reads by sequence, see stream-reader.ts); it exists so that the stream knows what the job
 * has committed. After a batch commits, the messages up to its end are acknowledged (AckAll: one
 * ack covers every earlier message), which lets an Interest stream remove them, and shows the
 * job's progress in the consumer's ack floor.
 */

/** How long one commit waits for the consumer to deliver the message it must acknowledge. */
const ACK_FETCH_MS = 1_000;

/** The durable consumer of a source and the delivered messages not acknowledged yet. */
export class DurableAcks {
  readonly #stream: string;
  readonly #durable: string;
  readonly #subjects: readonly string[];
  /** Delivered messages past the last acknowledged end, in order. */
  #held: JsMsg[] = [];
  /** The last stream sequence the consumer delivered. */
  #delivered = 0;

  constructor(stream: string, durable: string, subjects: readonly string[]) {
    this.#stream = stream;
    this.#durable = durable;
    this.#subjects = subjects;
  }

  /** Creates the durable consumer if it does not exist (delivering from the stream's start, AckAll). */
  async ensure(nc: NatsConnection): Promise<void> {
    const jsm = await jetstreamManager(nc, { checkAPI: false });
    try {
      this.#delivered = (await jsm.consumers.info(this.#stream, this.#durable)).delivered.stream_seq;
      return;
    } catch (error) {
      if ((error as { name?: string }).name !== 'ConsumerNotFoundError' && !/consumer not found/i.test((error as Error).message)) throw error;
    }
    const filter = this.#subjects.length === 1 ? { filter_subject: this.#subjects[0] as string } : {};
    await jsm.consumers.add(this.#stream, { durable_name: this.#durable, ack_policy: AckPolicy.All, deliver_policy: DeliverPolicy.All, max_ack_pending: -1, ...filter });
  }

  /**
   * Acknowledges every message up to sequence `end`: pulls from the durable consumer the messages
   * up to `end` it has not delivered yet, then acks the last one held at or before `end`. Returns
   * whether it could: after a restart, the messages the earlier process pulled come again only
   * after the consumer's `ack_wait`, and a later commit acknowledges them.
   */
  async ackUpTo(nc: NatsConnection, end: number): Promise<boolean> {
    const consumer = await jetstream(nc, { checkAPI: false }).consumers.get(this.#stream, this.#durable);
    // At most `end - delivered` messages lie up to `end`: pulling no more keeps later ones undelivered.
    while (this.#delivered < end) {
      const messages = await consumer.fetch({ max_messages: Math.min(256, end - this.#delivered), expires: ACK_FETCH_MS });
      let got = 0;
      for await (const m of messages) {
        got++;
        this.#held.push(m);
        this.#delivered = Math.max(this.#delivered, m.seq);
      }
      if (got === 0) break;
    }
    let last = -1;
    for (let i = 0; i < this.#held.length && (this.#held[i] as JsMsg).seq <= end; i++) last = i;
    if (last < 0) return false;
    await (this.#held[last] as JsMsg).ackAck();
    this.#held = this.#held.slice(last + 1);
    return true;
  }
}
