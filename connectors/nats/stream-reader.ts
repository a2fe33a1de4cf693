import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { subjectMatches } from './message-format.js';

/*
 * Reads a stream's messages by sequence number through a short-lived consumer: one ephemeral pull
 * consumer (no acks, in memory) starting at the first sequence wanted, with the subject filter on
 * the server when there is one subject, fetched in chunks until the range's end, then deleted.
 * Server 2.9 has neither multi-subject consumer filters nor batched direct gets (both 2.10+/2.11),
 * and a direct get per message would be a request per record; the consumer is two requests and a
 * stream of messages, and its `num_pending` says exactly how many matching messages exist.
 */

/** A message as read: its sequence, subject, payload and the broker's timestamp in ms. */
export interface StoredMessage {
  readonly seq: number;
  readonly subject: string;
  readonly data: Uint8Array;
  readonly time: number;
}

/** What {@link readMessages} reads. */
export interface ReadRequest {
  readonly stream: string;
  /** The subject filters (none: every subject). */
  readonly subjects: readonly string[];
  /** The first sequence to read. */
  readonly from: number;
  /** The last sequence to read (inclusive). */
  readonly until: number;
  /** The most matching messages to read. */
  readonly max: number;
}

/** The largest chunk fetched at once. */
const CHUNK = 1_000;
/** How long one fetch waits for messages the consumer said exist. */
const FETCH_EXPIRES_MS = 5_000;

/**
 * The matching messages with sequences in `[from, until]`, at most `max`, in order.
 *
 * @throws Error when the server does not deliver messages it said it holds (a timeout: transient).
 */
export async function readMessages(nc: NatsConnection, request: ReadRequest): Promise<StoredMessage[]> {
  const { stream, subjects, from, until, max } = request;
  const out: StoredMessage[] = [];
  if (until < from || max <= 0) return out;
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const serverFilter = subjects.length === 1 ? subjects[0] : undefined;
  const info = await addReadConsumer(jsm, stream, subjects, from, 30_000_000_000);
  try {
    let pending = info.num_pending;
    const consumer = await jetstream(nc, { checkAPI: false }).consumers.get(stream, info.name);
    while (pending > 0) {
      let got = 0;
      let done = false;
      const messages = await consumer.fetch({ max_messages: Math.min(pending, CHUNK), expires: FETCH_EXPIRES_MS });
      for await (const m of messages) {
        got++;
        pending = m.info.pending;
        if (m.seq > until) {
          done = true;
          break;
        }
        if (serverFilter === undefined && subjects.length > 0 && !matchesAny(subjects, m.subject)) continue;
        out.push({ seq: m.seq, subject: m.subject, data: m.data, time: Math.floor(m.info.timestampNanos / 1e6) });
        if (out.length >= max || m.seq === until) {
          done = true;
          break;
        }
      }
      if (done) break;
      if (got === 0) throw Object.assign(new Error(`stream ${stream} did not deliver the messages from sequence ${from} it holds within ${FETCH_EXPIRES_MS} ms`), { name: 'TimeoutError' });
    }
  } finally {
    await jsm.consumers.delete(stream, info.name).catch(() => undefined);
  }
  return out;
}

/** The stream's first and last sequence numbers, and its retention. */
export async function streamState(nc: NatsConnection, stream: string): Promise<{ readonly first: number; readonly last: number; readonly retention: string }> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const info = await jsm.streams.info(stream);
  return { first: info.state.first_seq, last: info.state.last_seq, retention: info.config.retention };
}

/**
 * Adds the ephemeral consumer a read goes through: no acks, in memory, one replica, delivering
 * from sequence `from`, filtered on the server when there is one subject (server 2.9 filters on
 * one), removed by the server after `inactiveNs` without a pull request.
 */
export function addReadConsumer(jsm: JetStreamManager, stream: string, subjects: readonly string[], from: number, inactiveNs: number): Promise<ConsumerInfo> {
  const serverFilter = subjects.length === 1 ? subjects[0] : undefined;
  return jsm.consumers.add(stream, {
    ack_policy: AckPolicy.None,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: from,
    mem_storage: true,
    num_replicas: 1,
    inactive_threshold: inactiveNs,
    ...(serverFilter === undefined ? {} : { filter_subject: serverFilter }),
  });
}

/** Whether `subject` matches one of `filters`. */
export function matchesAny(filters: readonly string[], subject: string): boolean {
  for (const filter of filters) if (subjectMatches(filter, subject)) return true;
  return false;
}

/** What a delivered message's reply subject says about it. */
export interface AckInfo {
  /** Its stream sequence. */
  seq: number;
  /** Its delivery sequence on the consumer (consecutive: a gap means a lost delivery). */
  dseq: number;
  /** When the server stored it, in ms since the epoch. */
  time: number;
  /** How many matching messages the consumer held after it. */
  pending: number;
}

const DOT = 46;
const ZERO = 48;

/** The whole number in `s` from `start` to `end` (exclusive); NaN when a character is not a digit. */
function digits(s: string, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = s.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return end > start ? n : Number.NaN;
}

/**
 * Reads a JetStream delivery's reply subject into `into`, without splitting it:
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<seq>.<dseq>.<nanos>.<pending>` (9 tokens), or the
 * form with domain and account hash before the stream and a random token at the end (12 or more).
 *
 * @returns false when `reply` is not a JetStream delivery's.
 */
export function ackInfoOf(reply: string, into: AckInfo): boolean {
  if (!reply.startsWith('$JS.ACK.')) return false;
  let dots = 0;
  for (let i = 0; i < reply.length; i++) if (reply.charCodeAt(i) === DOT) dots++;
  if (dots !== 8 && dots < 11) return false;
  // The fields end at the last dot (9 tokens) or the one before it (12 or more).
  let end = reply.length;
  if (dots !== 8) end = reply.lastIndexOf('.', end - 1);
  const p = reply.lastIndexOf('.', end - 1);
  const t = reply.lastIndexOf('.', p - 1);
  const d = reply.lastIndexOf('.', t - 1);
  const s = reply.lastIndexOf('.', d - 1);
  into.pending = digits(reply, p + 1, end);
  // Nanoseconds past 2^53 lose precision as a number: the milliseconds are the digits before the last six.
  into.time = p - t - 1 > 6 ? digits(reply, t + 1, p - 6) : 0;
  into.dseq = digits(reply, d + 1, t);
  into.seq = digits(reply, s + 1, d);
  return !Number.isNaN(into.pending + into.time + into.dseq + into.seq);
}
