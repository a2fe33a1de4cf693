import type { StoreKey } from './state-store.js';

/*
 * How a keyed operator lays its state out in its store. Every store key starts with a namespace
 * character, so each kind of row is one ordered range:
 *   S <key>                       the key's entry
 *   D <time> <kind> <key>         processing-time deadline of a timeout (o) or a TTL (l)
 *   E <time> <key>                event-time TTL deadline
 *   P <key>                       an entry written before its operator had a watermark: its
 *                                 event-time TTL deadline comes from the first watermark
 *   T <domain> <time> <key>       a user timer, domain p (processing) or e (event)
 * <key> is the key codec's encoding; <time> is 8 bytes, ordered like the number.
 */

/** Namespaces of the store layout. */
export const NS = { entry: 'S', deadline: 'D', eventDeadline: 'E', noWatermark: 'P', timer: 'T', version: 'V' } as const;

/** Kinds of processing-time deadlines. */
export const DEADLINE_KIND = { timeout: 'o', ttl: 'l' } as const;

/** Timer domains: processing (batch) time or event time. */
export type TimeDomain = 'processing' | 'event';

const DOMAIN_CHAR: Readonly<Record<TimeDomain, string>> = { processing: 'p', event: 'e' };

const scratch = new DataView(new ArrayBuffer(8));

/** Encodes a time (any number, ms) as 8 chars whose order is the number's order. */
export function encodeTime(time: number): string {
  scratch.setFloat64(0, time === 0 ? 0 : time);
  const negative = (scratch.getUint8(0) & 0x80) !== 0;
  let out = '';
  for (let i = 0; i < 8; i++) {
    const byte = scratch.getUint8(i);
    out += String.fromCharCode(negative ? ~byte & 0xff : i === 0 ? byte | 0x80 : byte);
  }
  return out;
}

/** Decodes 8 chars made by {@link encodeTime}. */
export function decodeTime(encoded: string): number {
  const negative = (encoded.charCodeAt(0) & 0x80) === 0;
  for (let i = 0; i < 8; i++) {
    const byte = encoded.charCodeAt(i);
    scratch.setUint8(i, negative ? ~byte & 0xff : i === 0 ? byte & 0x7f : byte);
  }
  return scratch.getFloat64(0);
}

/** The smallest 8-char time encoding above `encoded`, so `< after(enc(t))` means `<= t`. */
export function after(encoded: string): string {
  const codes = Array.from({ length: encoded.length }, (_, i) => encoded.charCodeAt(i));
  for (let i = codes.length - 1; i >= 0; i--) {
    if ((codes[i] as number) < 0xff) {
      codes[i] = (codes[i] as number) + 1;
      return String.fromCharCode(...codes);
    }
    codes[i] = 0;
  }
  return `${encoded}\u00ff`;
}

export const entryKey = (key: StoreKey): StoreKey => NS.entry + key;
export const deadlineKey = (time: number, kind: string, key: StoreKey): StoreKey => NS.deadline + encodeTime(time) + kind + key;
export const eventDeadlineKey = (time: number, key: StoreKey): StoreKey => NS.eventDeadline + encodeTime(time) + key;
export const noWatermarkKey = (key: StoreKey): StoreKey => NS.noWatermark + key;
export const timerKey = (domain: TimeDomain, time: number, key: StoreKey): StoreKey => NS.timer + DOMAIN_CHAR[domain] + encodeTime(time) + key;

/** The range of processing-time deadlines strictly before `time`. */
export const deadlinesBefore = (time: number) => ({ gte: NS.deadline, lt: NS.deadline + encodeTime(time) });
/** The range of event-time deadlines strictly before `time`. */
export const eventDeadlinesBefore = (time: number) => ({ gte: NS.eventDeadline, lt: NS.eventDeadline + encodeTime(time) });
/** The range of timers of `domain` at or before `time`. */
export const timersUpTo = (domain: TimeDomain, time: number) => ({ gte: NS.timer + DOMAIN_CHAR[domain], lt: NS.timer + DOMAIN_CHAR[domain] + after(encodeTime(time)) });

/** Splits a deadline row key into its parts. */
export function parseDeadlineKey(row: StoreKey): { readonly time: number; readonly kind: string; readonly key: StoreKey } {
  return { time: decodeTime(row.slice(1, 9)), kind: row.charAt(9), key: row.slice(10) };
}

/** Splits an event deadline row key into its parts. */
export function parseEventDeadlineKey(row: StoreKey): { readonly time: number; readonly key: StoreKey } {
  return { time: decodeTime(row.slice(1, 9)), key: row.slice(9) };
}

/** Splits a timer row key into its parts. */
export function parseTimerKey(row: StoreKey): { readonly domain: TimeDomain; readonly time: number; readonly key: StoreKey } {
  return { domain: row.charAt(1) === 'e' ? 'event' : 'processing', time: decodeTime(row.slice(2, 10)), key: row.slice(10) };
}
