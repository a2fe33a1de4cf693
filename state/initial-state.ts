import { Batch, type Key, type Pair, type StaticDataset } from 'sluice';
import { encodeKey } from './key-codec.js';
import { entryKey } from './state-layout.js';
import type { StateStore } from './state-store.js';
import { checkStateValue } from './value-codec.js';

/**
 * Writes an operator's initial state into a store that has never committed (version 0), so a
 * restart on existing state does not apply it again. Keys that already have staged state keep it.
 *
 * @returns whether it wrote anything (a worker's cache of the keys' groups is then stale).
 * @throws TypeError for a key or value that cannot be stored.
 */
export async function applyInitialState<K extends Key, S>(
  store: StateStore,
  data: StaticDataset<Pair<K, S>>,
  operator: string,
  toEntry: (state: S) => unknown,
): Promise<boolean> {
  if (store.version !== 0 || applied.has(store)) return false;
  applied.add(store);
  const pairs = data instanceof Batch ? data.toArray() : data;
  const rows = pairs.map(([key, state]) => {
    checkStateValue(state, `initial state of ${operator}`);
    return [entryKey(encodeKey(key)), state] as const;
  });
  await store.load(rows.map(([row]) => row));
  let wrote = false;
  for (const [row, state] of rows) {
    if (store.has(row)) continue;
    store.put(row, toEntry(state));
    wrote = true;
  }
  return wrote;
}

const applied = new WeakSet<StateStore>();
