import type { Key, KeyPart, StreamingContext } from 'sluice';
import { decodeKey, decodeTime, decodeValue, encodeKey, encodeKeyPrefix } from 'sluice/extend';
import { rowsOf } from '../state/internal.js';
import { sublevels, type CheckpointDb, type CheckpointSnapshot } from './checkpoint-layout.js';
import { corrupt } from './checkpoint-errors.js';
import { readAtSnapshot } from './inspect-context.js';
import type { CheckpointMeta, CommitEntry } from './level-checkpointer.js';
import { noCheckpoint, openStoppedCheckpoint } from './open-stopped-checkpoint.js';

/** Which entries {@link readCheckpointState} reads. */
export interface StateReadOptions {
  /** Only this key's entry (for an event-time window: its windows). */
  readonly key?: Key;
  /**
   * Only the keys that start with this: a string matches the string keys that start with it; an
   * array of key parts the array keys whose first parts they are (`['card-1']` matches `['card-1', 42]`).
   */
  readonly prefix?: string | readonly KeyPart[];
  /** At most this many entries (default 100); `more` says whether there were others. */
  readonly limit?: number;
}

/** One entry of an operator's state. */
export interface StateEntryView {
  readonly key: Key;
  /** For an event-time window operator: the window (`[start, end)`, ms) or the pane (`end` absent) the value is for. */
  readonly window?: { readonly start: number; readonly end?: number };
  /** The state (for `mapWithState`, the key's state without its timestamps; for a session window, its sessions). */
  readonly value: unknown;
}

/** What {@link readCheckpointState} reads: an operator's committed state. */
export interface OperatorStateView {
  readonly operator: string;
  readonly kind: string;
  /** The batch the state is as of: the last whose state was persisted, if any. */
  readonly batchId: number | undefined;
  /** The entries, in key order (event-time windows: accumulators, then panes, then sessions). */
  readonly entries: readonly StateEntryView[];
  /** Whether more entries matched than `limit`. */
  readonly more: boolean;
}

/** How an operator kind lays out its keyed rows: namespace, and bytes after the key (window times). */
const LAYOUTS: Readonly<Record<string, readonly { readonly ns: string; readonly tail: 0 | 8 | 16 }[]>> = {
  updateStateByKey: [{ ns: 'S', tail: 0 }],
  mapWithState: [{ ns: 'S', tail: 0 }],
  // Each remembered key, with the time it is remembered until.
  dropDuplicates: [{ ns: 'S', tail: 0 }],
  // The model, under the one key 'model'.
  streamingKMeans: [{ ns: 'S', tail: 0 }],
  streamingLinearRegression: [{ ns: 'S', tail: 0 }],
  eventTimeWindow: [
    { ns: 'A', tail: 16 },
    { ns: 'P', tail: 8 },
    { ns: 'S', tail: 0 },
  ],
};

/**
 * An operator's committed state in the checkpoint at `directory`, read-only, its keys and values
 * decoded as the state codecs wrote them (values are not migrated to a newer state version): the
 * State Processor API's and interactive queries' look inside, for a stopped job. A running job's
 * checkpoint is locked: ask its monitor (`sluice state` does), or use {@link readContextState}
 * in its process.
 *
 * @throws TypeError when no stateful operator of the checkpoint has that name (the message lists
 * them), for a kind whose state is not keyed (batch-time windows), or bad options.
 * @throws SluiceError `CHECKPOINT_UNAVAILABLE` (no checkpoint; or a running context holds it: the
 * message says to use its monitor), `CHECKPOINT_CORRUPT`.
 * @example const { entries } = await readCheckpointState('./ckpt', 'counts', { prefix: 'user-', limit: 10 });
 */
export async function readCheckpointState(directory: string, operator: string, options: StateReadOptions = {}): Promise<OperatorStateView> {
  if (typeof directory !== 'string' || directory === '') throw new TypeError('readCheckpointState: pass the checkpoint directory.');
  const db = await openStoppedCheckpoint(directory, false, "read its state through the job's monitor instead (run it with sluice run --monitor PORT, or serveMonitor(ctx)).");
  try {
    return await readState(db, undefined, directory, operator, options);
  } finally {
    await db.close();
  }
}

/**
 * {@link readCheckpointState} for a running context: the operator's state as its checkpoint holds
 * it at one snapshot (the last persisted batch's), through the context's open checkpoint. What a
 * job's monitor serves as `GET /api/state/<operator>`.
 *
 * @throws TypeError as `readCheckpointState`, and when the context has no open LevelDB checkpoint.
 */
export function readContextState(ctx: StreamingContext, operator: string, options: StateReadOptions = {}): Promise<OperatorStateView> {
  return readAtSnapshot(ctx, (db, snapshot, directory) => readState(db, snapshot, directory, operator, options));
}

async function readState(db: CheckpointDb, snapshot: CheckpointSnapshot | undefined, directory: string, operator: string, options: StateReadOptions): Promise<OperatorStateView> {
  const at = snapshot === undefined ? {} : { snapshot };
  const limit = options.limit ?? 100;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`readCheckpointState: limit must be a positive integer, got ${String(limit)}.`);
  if (options.key !== undefined && options.prefix !== undefined) throw new TypeError('readCheckpointState: give a key or a prefix, not both.');
  const { meta, commits } = sublevels(db);
  const metaBytes = await meta.get('format', at);
  if (metaBytes === undefined) throw noCheckpoint(directory, 'the database holds no checkpoint metadata (no context has started on it)');
  const stateful = (decodeValue(metaBytes) as CheckpointMeta).fingerprint.stateful;
  const found = stateful.find((op) => op.id === operator);
  if (found === undefined) {
    throw new TypeError(`The checkpoint at ${directory} holds no stateful operator named '${operator}'; ${stateful.length === 0 ? 'it holds none' : `it holds: ${stateful.map((op) => `${op.id} (${op.kind})`).join(', ')}`}.`);
  }
  const layout = LAYOUTS[found.kind];
  if (layout === undefined) throw new TypeError(`The state of '${operator}' (${found.kind}) is not keyed: it holds buffered batches. 'sluice inspect' reports its size.`);
  const wanted = options.key === undefined ? undefined : encodeKey(options.key);
  const start = wanted ?? (options.prefix === undefined ? '' : prefixOf(options.prefix));
  const rows = rowsOf(db as unknown as Parameters<typeof rowsOf>[0], operator);
  const entries: StateEntryView[] = [];
  let more = false;
  for (const { ns, tail } of layout) {
    const from = Buffer.from(ns + start, 'latin1');
    for await (const [rowBytes, bytes] of rows.iterator({ gte: from, ...at })) {
      const row = rowBytes.toString('latin1');
      if (!row.startsWith(ns + start)) break;
      const encoded = row.slice(1, row.length - tail);
      if (wanted !== undefined && encoded !== wanted) continue;
      if (entries.length === limit) {
        more = true;
        break;
      }
      entries.push(decodeEntry(found.kind, row, encoded, tail, bytes, directory, operator));
    }
    if (more) break;
  }
  let batchId: number | undefined;
  for await (const bytes of commits.values({ reverse: true, ...at })) {
    const entry = decodeValue(bytes) as CommitEntry;
    if (entry.persisted) {
      batchId = entry.record.batchId;
      break;
    }
  }
  return { operator, kind: found.kind, batchId, entries, more };
}

function decodeEntry(kind: string, row: string, encoded: string, tail: number, bytes: Uint8Array, directory: string, operator: string): StateEntryView {
  try {
    const key = decodeKey(encoded);
    const stored = decodeValue(bytes);
    const value = kind === 'mapWithState' ? (stored as readonly unknown[])[0] : stored;
    if (tail === 0) return { key, value };
    const times = row.slice(row.length - tail);
    const start = decodeTime(times.slice(0, 8));
    return { key, window: tail === 16 ? { start, end: decodeTime(times.slice(8)) } : { start }, value };
  } catch (error) {
    throw corrupt(directory, `the state row 0x${Buffer.from(row, 'latin1').toString('hex')} of operator '${operator}' cannot be decoded`, error);
  }
}

/** The encoded start of the keys a prefix matches. */
function prefixOf(prefix: string | readonly KeyPart[]): string {
  if (typeof prefix === 'string') return encodeKey(prefix).slice(0, -1); // without the string's terminator
  if (Array.isArray(prefix)) return encodeKeyPrefix(prefix);
  throw new TypeError(`readCheckpointState: a prefix is a string or an array of key parts, got ${JSON.stringify(prefix)}.`);
}
