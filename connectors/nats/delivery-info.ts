/*
 * What a JetStream delivery's reply subject says: the message's stream sequence, its delivery
 * sequence on the consumer, the time the server stored it and how many matching messages the
 * consumer held after it, read from the subject's characters without splitting it.
 */

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
