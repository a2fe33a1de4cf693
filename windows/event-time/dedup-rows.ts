import type { StoreKey } from 'sluice/extend';

/*
 * How `dropDuplicates` lays out a durable store (a store in memory holds nothing: the operator's
 * own table is the state):
 *   S <key>    the time the key is remembered until (its first time plus `within`)
 *   M          the operator's last watermark (event time only)
 * <key> is the key codec's encoding. `S` is the namespace the progress event's `stateRows` counts.
 */

/** The namespace of the keys remembered. */
export const KEY_NS = 'S';

export const keyRow = (key: StoreKey): StoreKey => KEY_NS + key;
export const WATERMARK_ROW: StoreKey = 'M';
