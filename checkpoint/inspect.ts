import { SluiceError, type MultipleWatermarkPolicy } from 'sluice';
import { decodeValue, type BatchPlan, type GraphFingerprint, type Offset } from 'sluice/extend';
import { batchIdOf, FORMAT_VERSION, sublevels, type CheckpointDb, type CheckpointSnapshot } from './checkpoint-layout.js';
import { corrupt, isCorruption, rootCause } from './checkpoint-errors.js';
import { noCheckpoint, openStoppedCheckpoint } from './open-stopped-checkpoint.js';
import type { CheckpointMeta, CommitEntry } from './level-checkpointer.js';
import { verifyEntries } from './verify-entries.js';

/** What {@link inspectCheckpoint} finds in a checkpoint directory. */
export interface CheckpointInspection {
  readonly directory: string;
  /** The layout version of the checkpoint. */
  readonly format: number;
  /** The time batch ids count from: batch `k` has time `zeroTime + (k + 1) * batchIntervalMs`. */
  readonly zeroTime: number;
  readonly batchIntervalMs: number;
  /** The last batch whose commit was written, if any. */
  readonly lastCommitted: { readonly batchId: number; readonly batchTime: number } | undefined;
  /** The last batch whose state was persisted with its commit (recovery restores it), if any. */
  readonly lastPersisted: number | undefined;
  /** Batches whose plan was logged but that did not commit: a restart replays them first. */
  readonly pending: readonly number[];
  /**
   * The stateful operators with persisted state, at their last persisted version: `keys`, what
   * their progress events report as `stateRows` (the keys of `updateStateByKey` and
   * `mapWithState`, the (key, window) entries of `eventTimeWindow`), where the checkpoint tells
   * (not for batch-time windows, whose rows are held batches, nor for a store not yet committed
   * since an upgrade from a version that did not count them); `rows`, every row stored (a
   * `mapWithState` with a TTL keeps a deadline row beside each key's); `bytes`, their keys' and
   * values' bytes.
   */
  readonly operators: readonly OperatorStateSize[];
  /** Where every source stands after the last committed batch. */
  readonly sources: readonly { readonly name: string; readonly offset: Offset }[];
  /**
   * The global event-time watermark the last committed batch ran with (as in its progress event),
   * if any stream has one; the next batch's is computed from the events up to that batch.
   */
  readonly watermark: number | undefined;
  /**
   * How the checkpoint combines several watermarks (the `watermarkPolicy` a restart keeps), as
   * its last commit recorded it: `'min'` for a commit written before the policy was recorded,
   * `undefined` before the first commit.
   */
  readonly watermarkPolicy: MultipleWatermarkPolicy | undefined;
  /**
   * What the program that last wrote the checkpoint recorded of itself: its batch interval, its
   * sources and every stateful operator with what its state means (see `checkCompatibility`).
   */
  readonly fingerprint: GraphFingerprint;
  /**
   * With `verify`: what was verified (every block checksum of LevelDB's files, and every entry
   * read and decoded), all sound, or an inspection would have failed.
   */
  readonly verified?: { readonly entries: number };
}

/** The size of one operator's persisted state (see {@link CheckpointInspection.operators}). */
export interface OperatorStateSize {
  readonly id: string;
  readonly kind: string;
  /** Keys (entries), as the progress event's `stateRows`, where the checkpoint tells. */
  readonly keys?: number;
  /** Rows stored, of every namespace. */
  readonly rows: number;
  readonly bytes: number;
}

/** Options of {@link inspectCheckpoint}. */
export interface InspectOptions {
  /**
   * Verify the whole checkpoint: every block checksum of LevelDB's table and log files, then every
   * entry, read and decoded (default false: only what a start checks). Reads the whole database.
   */
  readonly verify?: boolean;
}

/**
 * Reads a checkpoint directory without running anything: where it stands (last committed and
 * persisted batches, batches a restart would replay, source offsets, watermark) and the size of
 * every operator's state. It opens the LevelDB itself and closes it, so it works only on a
 * checkpoint no context is using. Damage that a start would refuse is found before LevelDB opens
 * the database (its files are then left as they were); with `verify`, every block and entry.
 *
 * @throws TypeError when `directory` is not a non-empty string.
 * @throws SluiceError `CHECKPOINT_UNAVAILABLE` when the directory holds no checkpoint, cannot be
 * read, or a running context holds it; `CHECKPOINT_CORRUPT` when LevelDB or an entry cannot be
 * read (naming the file, and the key where known); `CHECKPOINT_INCOMPATIBLE` when it was written
 * with another layout version.
 * @example console.log(formatInspection(await inspectCheckpoint('./ckpt', { verify: true })));
 */
export async function inspectCheckpoint(directory: string, options: InspectOptions = {}): Promise<CheckpointInspection> {
  if (typeof directory !== 'string' || directory === '') throw new TypeError('inspectCheckpoint: pass the checkpoint directory.');
  const verify = options.verify ?? false;
  const db = await openStoppedCheckpoint(directory, verify, 'stop the context first, inspect a copy of the directory, or ask the running job through its monitor (sluice inspect does).');
  try {
    const info = await readInspection(db, directory);
    return verify ? { ...info, verified: { entries: await verifyEntries(db, directory) } } : info;
  } catch (error) {
    if (error instanceof SluiceError) throw error;
    // LevelDB reports a damaged table file as corruption, or as an I/O error for a truncated one.
    const fromLevel = (error as { code?: unknown }).code;
    if (isCorruption(error) || (typeof fromLevel === 'string' && fromLevel.startsWith('LEVEL_'))) throw corrupt(directory, 'LevelDB cannot read it', rootCause(error));
    throw error;
  } finally {
    await db.close();
  }
}

/**
 * The inspection of the checkpoint database `db` (open), read at `snapshot` when given (a running
 * context's database: every read then sees the same committed batches).
 */
export async function readInspection(db: CheckpointDb, directory: string, snapshot?: CheckpointSnapshot): Promise<CheckpointInspection> {
  const { meta, offsets, commits } = sublevels(db);
  const at = snapshot === undefined ? {} : { snapshot };
  const decode = <T>(bytes: Uint8Array, what: string): T => {
    try {
      return decodeValue(bytes) as T;
    } catch (error) {
      throw corrupt(directory, `${what} cannot be decoded`, error);
    }
  };
  const metaBytes = await meta.get('format', at);
  if (metaBytes === undefined) {
    const batches = (await offsets.keys({ limit: 1, ...at }).all()).length + (await commits.keys({ limit: 1, ...at }).all()).length;
    if (batches > 0) throw corrupt(directory, 'its meta entry is missing but it holds batches');
    throw noCheckpoint(directory, 'the database holds no checkpoint metadata (no context has started on it)');
  }
  const saved = decode<CheckpointMeta>(metaBytes, 'the format entry');
  if (typeof saved === 'object' && saved !== null && typeof saved.version === 'number' && saved.version !== FORMAT_VERSION) {
    throw new SluiceError('CHECKPOINT_INCOMPATIBLE', `The checkpoint at ${directory} has layout version ${saved.version}; this Sluice reads version ${FORMAT_VERSION}.`);
  }
  if (typeof saved !== 'object' || saved === null || typeof saved.zeroTime !== 'number' || !Array.isArray(saved.fingerprint?.stateful)) {
    throw corrupt(directory, 'the format entry is not a checkpoint meta entry');
  }
  let last: CommitEntry | undefined;
  let lastPersisted: number | undefined;
  for await (const [key, bytes] of commits.iterator({ reverse: true, ...at })) {
    const entry = decode<CommitEntry>(bytes, `commit ${batchIdOf(key)}`);
    const record = entry?.record as Partial<CommitEntry['record']> | undefined;
    if (record?.batchId !== batchIdOf(key) || typeof record.offsets !== 'object' || typeof record.watermarks !== 'object' || typeof entry.persisted !== 'boolean') {
      throw corrupt(directory, `commit ${batchIdOf(key)} is not a commit entry of that batch`);
    }
    last ??= entry;
    if (entry.persisted) {
      lastPersisted = entry.record.batchId;
      break;
    }
  }
  const pending: number[] = [];
  for await (const [key, bytes] of offsets.iterator(at)) {
    const plan = decode<BatchPlan>(bytes, `plan ${batchIdOf(key)}`);
    if (plan?.batchId !== batchIdOf(key)) throw corrupt(directory, `plan ${batchIdOf(key)} is not the plan of that batch`);
    if (last === undefined || plan.batchId > last.record.batchId) pending.push(plan.batchId);
  }
  const { batchIntervalMs, stateful, sources } = saved.fingerprint;
  const record = last?.record;
  return {
    fingerprint: saved.fingerprint,
    directory,
    format: saved.version,
    zeroTime: saved.zeroTime,
    batchIntervalMs,
    lastCommitted: record === undefined ? undefined : { batchId: record.batchId, batchTime: record.batchTime ?? saved.zeroTime + (record.batchId + 1) * batchIntervalMs },
    lastPersisted,
    pending,
    operators: await stateSizes(db, directory, stateful, at),
    sources: record === undefined ? [] : sources.filter((name) => name in record.offsets).map((name) => ({ name, offset: record.offsets[name] as Offset })),
    watermark: record?.watermarks.global ?? undefined,
    watermarkPolicy: record === undefined ? undefined : (record.watermarks.policy ?? 'min'),
  };
}

/**
 * The namespaces (first character of a store key) whose rows are an operator kind's keys, as its
 * progress event counts them: the entries of the keyed state operators (state/state-layout.ts),
 * the window, pane and session rows of event-time windows (windows/event-time/window-rows.ts).
 */
const KEY_NAMESPACES: Readonly<Record<string, readonly string[]>> = {
  updateStateByKey: ['S'],
  mapWithState: ['S'],
  eventTimeWindow: ['A', 'P', 'S'],
};

/**
 * The keys, rows and bytes of every operator's persisted state, in graph order, from the state
 * stores' meta entries: JSON under the operator id in sublevel `state-meta` (state/level-layout.ts).
 */
async function stateSizes(db: CheckpointDb, directory: string, graph: CheckpointMeta['fingerprint']['stateful'], at: { snapshot?: CheckpointSnapshot }): Promise<CheckpointInspection['operators']> {
  const metas = db.sublevel<string, Uint8Array>('state-meta', { keyEncoding: 'utf8', valueEncoding: 'view' });
  const sizes: OperatorStateSize[] = [];
  for await (const [id, bytes] of metas.iterator(at)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (error) {
      throw corrupt(directory, `the state meta entry of operator '${id}' cannot be decoded`, error);
    }
    const { rows, bytes: size, namespaces } = (parsed ?? {}) as { rows?: unknown; bytes?: unknown; namespaces?: Record<string, unknown> };
    if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(size)) throw corrupt(directory, `the state meta entry of operator '${id}' is not one (${JSON.stringify(parsed)})`);
    const kind = graph.find((node) => node.id === id)?.kind ?? 'unknown';
    const keys = keysOf(kind, rows as number, namespaces);
    sizes.push({ id, kind, ...(keys === undefined ? {} : { keys }), rows: rows as number, bytes: size as number });
  }
  const position = new Map(graph.map((node, i) => [node.id, i]));
  return sizes.sort((a, b) => (position.get(a.id) ?? Infinity) - (position.get(b.id) ?? Infinity));
}

/** An operator's keys from its meta entry's rows per namespace, where its kind and the entry tell. */
function keysOf(kind: string, rows: number, namespaces: Record<string, unknown> | undefined): number | undefined {
  const counted = KEY_NAMESPACES[kind];
  if (counted === undefined) return undefined;
  if (namespaces === undefined) return rows === 0 ? 0 : undefined;
  let keys = 0;
  for (const namespace of counted) keys += Number.isSafeInteger(namespaces[namespace]) ? (namespaces[namespace] as number) : 0;
  return keys;
}

/**
 * An inspection as JSON, as `sluice inspect --json` prints it and a job's monitor serves it
 * (`GET /api/checkpoint`): what the checkpoint does not have yet is `null` rather than a missing
 * key (a stable shape), bigints (in offsets) are their digits.
 */
export function inspectionJson(info: CheckpointInspection): string {
  return JSON.stringify(info, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : (value ?? null)), 2);
}

/**
 * A short human-readable report of an inspection.
 *
 * @example
 * Checkpoint ./ckpt (format 2, batch interval 1000 ms, zero time 0 (1970-01-01T00:00:00.000Z))
 *   last committed: batch 7 at 8000 (1970-01-01T00:00:08.000Z) (state persisted at batch 7)
 *   pending:        none
 *   watermark:      none
 *   sources:        rate-0 at {"rows":32,"startTime":0}
 *   operators:      counts (updateStateByKey): 3 keys, 4 rows, 96 bytes
 */
export function formatInspection(info: CheckpointInspection): string {
  const committed = info.lastCommitted === undefined ? 'none' : `batch ${info.lastCommitted.batchId} at ${timeOf(info.lastCommitted.batchTime)}`;
  const persisted = info.lastPersisted === undefined ? 'no state persisted' : `state persisted at batch ${info.lastPersisted}`;
  const list = (items: readonly string[]): string => (items.length === 0 ? 'none' : items.join(`\n${' '.repeat(18)}`));
  return [
    `Checkpoint ${info.directory} (format ${info.format}, batch interval ${info.batchIntervalMs} ms, zero time ${timeOf(info.zeroTime)})`,
    `  last committed: ${committed} (${persisted})`,
    `  pending:        ${info.pending.length === 0 ? 'none' : `batches ${info.pending.join(', ')} (logged, not committed: replayed on restart)`}`,
    `  watermark:      ${info.watermark === undefined ? 'none' : timeOf(info.watermark)}${info.watermark === undefined || info.watermarkPolicy === undefined ? '' : ` (policy '${info.watermarkPolicy}')`}`,
    `  sources:        ${list(info.sources.map((s) => `${s.name} at ${JSON.stringify(s.offset)}`))}`,
    `  operators:      ${list(info.operators.map((o) => `${o.id} (${o.kind}): ${o.keys === undefined ? '' : `${o.keys} keys, `}${o.rows} rows, ${o.bytes} bytes`))}`,
    ...(info.verified === undefined ? [] : [`  verified:       every block checksum, and ${info.verified.entries} entries read and decoded: no damage`]),
  ].join('\n');
}

/** Epoch milliseconds with their ISO date beside them: `5000 (1970-01-01T00:00:05.000Z)`. */
function timeOf(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? String(ms) : `${ms} (${date.toISOString()})`;
}
