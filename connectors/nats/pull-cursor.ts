import { AckPolicy, DeliverPolicy, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { ackInfoOf, type AckInfo } from './delivery-info.js';
import { matchesAny } from './message-format.js';
import { messageOf } from './nats-connection.js';

/*
 * A read position in a stream that lives across batches: one ephemeral pull consumer (no acks, in
 * memory) and the messages it delivered ahead of the job. Pull requests go out on the protocol
 * directly (`$JS.API.CONSUMER.MSG.NEXT`), one at a time, each for what the read-ahead bounds
 * leave room for, so messages arrive while the job computes and memory stays bounded. Each
 * message's sequence, time and pending count are read from its reply subject by hand, without the
 * client's per-message wrapper and token array.
 *
 * The consumer delivers the matching messages in sequence order; a delivery sequence that skips
 * one (a message lost on the way), a consumer deleted, a lost connection or a status the cursor
 * does not expect fails the cursor, and the source then opens a fresh one by sequence where the
 * job stands. So `take` always hands out the matching messages right after the last it handed
 * out, with none missing. A range read once (a replay) goes through a cursor of its own that
 * never asks past the range's end: both paths read deliveries the same way, so a replay gives the
 * very records the first read gave.
 */

/** How long a pull request waits on the server for messages before it ends (and another is sent). */
const PULL_EXPIRES_MS = 30_000;
/** How often the server says a waiting pull request is still alive. */
const HEARTBEAT_MS = 5_000;
/** How long `take` waits for messages the consumer holds before it asks whether the consumer still exists. */
const CHECK_AFTER_MS = 500;
/** How long `take` then waits before it gives the cursor up. */
const WAIT_MS = 5_000;
/** Read-ahead in messages when batches have no record limit. */
const DEFAULT_AHEAD = 10_000;
/** Read-ahead in bytes (payload and subjects), whatever the record limit. */
const AHEAD_BYTES = 16 * 1024 * 1024;
/** A consumer that hears no pull request this long is removed by the server (a crashed job's). */
const INACTIVE_NS = 5 * 60 * 1e9;

/** A message as read: its sequence, subject, payload and the broker's timestamp in ms. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly time: number;
}

/** What {@link PullCursor.open} reads. */
export interface CursorRequest {
  readonly stream: string;
  /** The subject filters (none: every subject). */
  readonly subjects: readonly string[];
  /** The first sequence to read. */
  readonly from: number;
  /** The last sequence it ever asks for, for a range read once (default: none, it follows the stream). */
  readonly until?: number;
}

/**
 * Adds the ephemeral consumer a read goes through: no acks, in memory, one replica, delivering
 * from sequence `from`, filtered on the server when there is one subject (server 2.9 filters on
 * one), removed by the server after {@link INACTIVE_NS} without a pull request.
 */
function addReadConsumer(jsm: JetStreamManager, stream: string, subjects: readonly string[], from: number): Promise<ConsumerInfo> {
  const serverFilter = subjects.length === 1 ? subjects[0] : undefined;
  return jsm.consumers.add(stream, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: INACTIVE_NS,
    ...(serverFilter === undefined ? {} : { filter_subject: serverFilter }),
  });
}

/** A failure of the cursor: the source opens a fresh one (a NATS client error name the retry rule treats as transient). */
function cursorError(message: string): Error {
  return Object.assign(new Error(message), { name: 'TimeoutError' });
}

/** The consumer's messages past the last taken, read ahead within bounds. */
export class PullCursor {
  /** The connection the cursor reads on: a cursor on another one is stale. */
  readonly nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #stream: string;
  readonly #consumer: string;
  /** The filters the source applies itself (several subjects: server 2.9 filters on one). */
  readonly #clientFilter: readonly string[] | undefined;
  readonly #sub: Subscription;
  /** The last sequence it asks for. */
  readonly #until: number;
  readonly #ack: AckInfo = { seq: 0, dseq: 0, time: 0, pending: 0 };
  /** Received, not yet taken: `#buffer[#head..]`. */
  #buffer: StoredMessage[] = [];
  #head = 0;
  #bufferedBytes = 0;
  /** The sequence of the last message taken (or the one before `from`). */
  #position: number;
  /** The sequence of the last message received. */
  #received: number;
  #dseq = 0;
  /** The consumer's count of matching messages not yet delivered, as of the last message. */
  #pending: number;
  /** Messages left in the open pull request; `undefined`: none open. */
  #requestLeft: number | undefined;
  #requestGot = 0;
  /** The last request ended on a message larger than its byte budget: ask for one message without one. */
  #oversize = false;
  /** The read-ahead bound in messages, from the batches' record limit. */
  #ahead = DEFAULT_AHEAD;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  /** Messages and statuses heard, and when that count last moved: a silent open request means a dead consumer. */
  #heard = 0;
  #heardChecked = -1;
  #heardAt = 0;

  private constructor(nc: NatsConnection, jsm: JetStreamManager, request: CursorRequest, consumer: string, pending: number) {
    this.nc = nc;
    this.#jsm = jsm;
    this.#stream = request.stream;
    this.#consumer = consumer;
    this.#clientFilter = request.subjects.length > 1 ? request.subjects : undefined;
    this.#position = request.from - 1;
    this.#received = request.from - 1;
    this.#pending = pending;
    this.#until = request.until ?? Number.POSITIVE_INFINITY;
    this.#sub = nc.subscribe(createInbox(), {
      callback: (error, msg) => {
        this.#onMessage(error, msg);
      },
    });
  }

  /** A cursor at sequence `from` on a new consumer; it reads from the first `take` on. */
  static async open(nc: NatsConnection, jsm: JetStreamManager, request: CursorRequest): Promise<PullCursor> {
    const info = await addReadConsumer(jsm, request.stream, request.subjects, request.from);
    return new PullCursor(nc, jsm, request, info.name, info.num_pending);
  }

  /** The sequence of the last message taken: the next `take` continues right after it. */
  get position(): number {
    return this.#position;
  }

  /** Whether the cursor can still be read: not failed, its connection open, and a pull request waiting on the server heard from lately. */
  usable(now: number): boolean {
    if (this.#error !== undefined || this.nc.isClosed()) return false;
    if (this.#requestLeft === undefined || this.#heard !== this.#heardChecked) {
      this.#heardChecked = this.#heard;
      this.#heardAt = now;
      return true;
    }
    return now - this.#heardAt <= 3 * HEARTBEAT_MS;
  }

  /**
   * The next matching messages, in order: at most `max`, none past sequence `until`; waits for
   * those the consumer says it holds. Messages past them stay for the next call.
   *
   * @throws Error (named as a transient client error) when the cursor fails before any message is taken.
   */
  async take(max: number, until: number): Promise<StoredMessage[]> {
    this.#ahead = Number.isFinite(max) ? Math.max(1, max) : DEFAULT_AHEAD;
    const out: StoredMessage[] = [];
    for (;;) {
      const buffer = this.#buffer;
      while (out.length < max && this.#head < buffer.length) {
        const m = buffer[this.#head] as StoredMessage;
        if (m.seq > until) return out;
        this.#head++;
        this.#bufferedBytes -= m.data.length + m.subject.length;
        this.#position = m.seq;
        out.push(m);
      }
      this.#compact();
      if (this.#error === undefined) this.#refill();
      if (out.length >= max || this.#received >= until || this.#pending === 0) return out;
      if (this.#error !== undefined) {
        if (out.length > 0) return out;
        throw this.#error;
      }
      await this.#awaitDelivery();
    }
  }

  /** Stops reading and removes the consumer. */
  async close(): Promise<void> {
    this.#fail(cursorError('the cursor was closed'));
    await this.#jsm.consumers.delete(this.#stream, this.#consumer).catch(() => undefined);
  }

  /**
   * Waits for the next message or status. A healthy consumer delivers the messages it holds at
   * once; one still silent after {@link CHECK_AFTER_MS} is asked about (a pull request sent to a
   * deleted consumer gets no answer), and the cursor fails if it is gone or stays silent.
   */
  async #awaitDelivery(): Promise<void> {
    const heard = this.#heard;
    if (await this.#next(CHECK_AFTER_MS)) return;
    const error = await this.#jsm.consumers.info(this.#stream, this.#consumer).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (this.#heard !== heard) return;
    if (error !== undefined) this.#fail(cursorError(`consumer ${this.#consumer} of stream ${this.#stream} is gone: ${messageOf(error)}`));
    else if (!(await this.#next(WAIT_MS))) this.#fail(cursorError(`stream ${this.#stream} did not deliver the messages after sequence ${this.#received} it holds within ${WAIT_MS} ms`));
  }

  /** Resolves true at the next message or status, false after `ms`. */
  #next(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = undefined;
        resolve(false);
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve(true);
      };
    });
  }

  #onMessage(error: Error | null, msg: Msg): void {
    this.#heard++;
    if (error !== null) this.#fail(error);
    else if (msg.reply === undefined || msg.reply === '') this.#onStatus(msg);
    else this.#onDelivery(msg);
    this.#wake?.();
  }

  #onDelivery(msg: Msg): void {
    if (this.#error !== undefined) return;
    const ack = this.#ack;
    if (!ackInfoOf(msg.reply as string, ack)) {
      this.#fail(cursorError(`stream ${this.#stream} delivered a message without JetStream metadata (reply ${msg.reply})`));
      return;
    }
    if (ack.dseq !== this.#dseq + 1) {
      this.#fail(cursorError(`consumer ${this.#consumer} skipped deliveries ${this.#dseq + 1} to ${ack.dseq - 1} (lost on the way)`));
      return;
    }
    this.#dseq = ack.dseq;
    this.#received = ack.seq;
    this.#pending = ack.pending;
    const subject = msg.subject;
    if (this.#clientFilter === undefined || matchesAny(this.#clientFilter, subject)) {
      const data = msg.data;
      this.#buffer.push({ seq: ack.seq, subject, data, time: ack.time });
      this.#bufferedBytes += data.length + subject.length;
    }
    this.#requestGot++;
    if (this.#requestLeft !== undefined && --this.#requestLeft === 0) this.#requestEnded();
  }

  /** Statuses come without a reply subject: heartbeats, and the end of a pull request. */
  #onStatus(msg: Msg): void {
    const headers = msg.headers;
    const code = headers?.code ?? 0;
    if (code === 100) return;
    if (code === 408 || code === 404 || (code === 409 && /exceeds maxbytes/i.test(headers?.description ?? ''))) {
      // The request ended (expired, or its byte budget spent); one that got nothing met a message larger than the budget.
      this.#oversize = code === 409 && this.#requestGot === 0;
      this.#requestEnded();
      return;
    }
    this.#fail(cursorError(`consumer ${this.#consumer} of stream ${this.#stream} stopped: ${code} ${headers?.description ?? ''}`.trim()));
  }

  #requestEnded(): void {
    this.#requestLeft = undefined;
    if (this.#error === undefined) this.#refill();
  }

  /** Sends a pull request when none is open and the read-ahead is at most half full. */
  #refill(): void {
    if (this.#requestLeft !== undefined) return;
    const buffered = this.#buffer.length - this.#head;
    if (buffered > this.#ahead / 2 || this.#bufferedBytes > AHEAD_BYTES / 2) return;
    // Past `#until` nothing is wanted; without a filter, `#until - #received` messages are exactly what is left.
    const batch = this.#oversize ? 1 : Math.min(this.#ahead - buffered, this.#until - this.#received);
    if (batch <= 0) return;
    const request = {
      batch,
      expires: PULL_EXPIRES_MS * 1e6,
      idle_heartbeat: HEARTBEAT_MS * 1e6,
      ...(this.#oversize ? {} : { max_bytes: AHEAD_BYTES - this.#bufferedBytes }),
    };
    this.#oversize = false;
    this.#requestLeft = batch;
    this.#requestGot = 0;
    this.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.#stream}.${this.#consumer}`, JSON.stringify(request), { reply: this.#sub.getSubject() });
  }

  #compact(): void {
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
  }

  #fail(error: Error): void {
    if (this.#error !== undefined) return;
    this.#error = error;
    this.#sub.unsubscribe();
    this.#wake?.();
  }
}
