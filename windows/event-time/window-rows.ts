import { decodeTime, encodedTimeAfter, encodeTime, type StoreKey } from 'sluice/state';
import type { TimeWindow } from './time-window.js';

/*
 * How the event-time window operator lays out its store:
 *   A <key> <start> <end>     the accumulator of a window (tumbling, calendar)
 *   P <key> <pane start>      the accumulator of a pane (sliding windows)
 *   S <key>                   the sessions of a key: [start, end, acc][]
 *   X <end> <start> <key>     index of live windows by end, for firing and eviction
 *   M                         the operator's last watermark
 * <key> is the key codec's encoding; times are 8 bytes ordered like the number.
 */

const TIME = 8;

export const windowRow = (key: StoreKey, w: TimeWindow): StoreKey => `A${key}${encodeTime(w.start)}${encodeTime(w.end)}`;
export const paneRow = (key: StoreKey, paneStart: number): StoreKey => `P${key}${encodeTime(paneStart)}`;
export const sessionRow = (key: StoreKey): StoreKey => `S${key}`;
export const indexRow = (key: StoreKey, w: TimeWindow): StoreKey => `X${encodeTime(w.end)}${encodeTime(w.start)}${key}`;
export const WATERMARK_ROW: StoreKey = 'M';

/** Index rows of windows ending at or before `time`. */
export const endingUpTo = (time: number) => ({ gte: 'X', lt: `X${encodedTimeAfter(encodeTime(time))}` });
/** Every index row. */
export const allWindows = { prefix: 'X' } as const;

/** Splits an index row into its window and key. */
export function parseIndexRow(row: StoreKey): { readonly window: TimeWindow; readonly key: StoreKey } {
  return {
    window: { start: decodeTime(row.slice(1 + TIME, 1 + 2 * TIME)), end: decodeTime(row.slice(1, 1 + TIME)) },
    key: row.slice(1 + 2 * TIME),
  };
}
