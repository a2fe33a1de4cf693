import type { Level } from 'level';

/*
 * One LevelDB per checkpoint directory (docs/architecture.md):
 *   meta/format          { version, zeroTime, fingerprint }
 *   offsets/<batch id>   the batch's plan, written before it computes
 *   commits/<batch id>   the batch's commit record, written atomically with its state and sink rows
 *   state/...            the stores of the stateful operators (LevelStateBackend)
 *   sinks/<name>/...     rows of table sinks
 * Batch ids are 16 hex digits, so key order is batch order. Values are the state value codec's
 * bytes (msgpackr in a versioned envelope).
 */

/** The layout version this code writes and reads. */
export const FORMAT_VERSION = 2;

/** The checkpoint database: string keys, byte values. */
export type CheckpointDb = Level<string, Uint8Array>;

/** An explicit snapshot of a checkpoint database: reads at it see one state of the database. */
export type CheckpointSnapshot = ReturnType<CheckpointDb['snapshot']>;

/** A batch id as a key: 16 hex digits. */
export function batchKey(batchId: number): string {
  return batchId.toString(16).padStart(16, '0');
}

/** The batch id of a key made by {@link batchKey}. */
export function batchIdOf(key: string): number {
  return Number.parseInt(key, 16);
}

/** The sublevels of a checkpoint database. */
export function sublevels(db: CheckpointDb) {
  const options = { keyEncoding: 'utf8', valueEncoding: 'view' } as const;
  return {
    meta: db.sublevel<string, Uint8Array>('meta', options),
    offsets: db.sublevel<string, Uint8Array>('offsets', options),
    commits: db.sublevel<string, Uint8Array>('commits', options),
    sinks: db.sublevel<string, Uint8Array>('sinks', options),
  };
}
