import { decodeTime, encodeTime, type StoreKey } from 'sluice/extend';
import type { TimeWindow } from './time-window.js';

/*
 * How the event-time window operator lays out its store:
 *   A <key> <start> <end>     the accumulator of a window (tumbling, calendar)
 *   P <key> <pane start>      the accumulator of a pane (sliding windows)
 *   S <key>                   the sessions of a key: [start, end, acc][]
 *   M                         the operator's last watermark
 *   V                         the aggregator version of the accumulators (absent: 1)
 * <key> is the key codec's encoding; times are 8 bytes ordered like the number. Which windows
 * are live is not stored: the operator keeps it in memory and rebuilds it from these rows.
 */

const TIME = 8;

/** The last encoded times, so a batch does not encode the same window bounds once per record. */
const timeCodes = new Map<number, string>();

/** {@link encodeTime}, memoized for the few times a batch uses over and over. */
function timeCode(t: number): string {
  let code = timeCodes.get(t);
  if (code === undefined) {
    if (timeCodes.size >= 4096) timeCodes.clear();
    code = encodeTime(t);
    timeCodes.set(t, code);
  }
  return code;
}

export const windowRow = (key: StoreKey, w: TimeWindow): StoreKey => `A${key}${timeCode(w.start)}${timeCode(w.end)}`;
export const paneRow = (key: StoreKey, paneStart: number): StoreKey => `P${key}${timeCode(paneStart)}`;
export const sessionRow = (key: StoreKey): StoreKey => `S${key}`;
export const WATERMARK_ROW: StoreKey = 'M';
export const VERSION_ROW: StoreKey = 'V';

/** What a stored row holds, for rebuilding the live windows after a restart. */
export type ParsedRow =
  | { readonly kind: 'window'; readonly key: StoreKey; readonly window: TimeWindow }
  | { readonly kind: 'pane'; readonly key: StoreKey; readonly pane: number }
  | { readonly kind: 'sessions'; readonly key: StoreKey }
  | { readonly kind: 'other' };

/** Splits a row of the layout above into its parts. */
export function parseRow(row: StoreKey): ParsedRow {
  switch (row[0]) {
    case 'A':
      return {
        kind: 'window',
        key: row.slice(1, row.length - 2 * TIME),
        window: { start: decodeTime(row.slice(row.length - 2 * TIME, row.length - TIME)), end: decodeTime(row.slice(row.length - TIME)) },
      };
    case 'P':
      return { kind: 'pane', key: row.slice(1, row.length - TIME), pane: decodeTime(row.slice(row.length - TIME)) };
    case 'S':
      return { kind: 'sessions', key: row.slice(1) };
    default:
      return { kind: 'other' };
  }
}
