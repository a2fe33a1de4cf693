import type { CheckpointSettings, CheckpointStorage } from 'sluice/extend';
import { LevelCheckpointer } from './level-checkpointer.js';

/** Options of {@link levelCheckpoint}. */
export interface LevelCheckpointOptions {
  /**
   * Persist state every this many batches (default 1: every batch). Between them a batch commits
   * only its commit record and sink rows, and recovery replays the batches since the last state
   * persisted (Spark's checkpoint interval).
   */
  readonly interval?: number;
  /**
   * How many state entries each stateful operator keeps in memory at most (decoded values, and keys
   * known to be absent), the rest being read from the checkpoint's LevelDB in one bulk read per
   * batch: a count per operator, instead of (or, with `stateCacheBytes`, beside) the byte budget.
   * Default: the context's `stateCacheSize`, else none.
   */
  readonly stateCacheSize?: number;
  /**
   * The bytes the stateful operators' state caches may hold together (an entry counts its key, its
   * encoded value and 100 bytes); when it is full, the operator holding the most evicts its oldest
   * entries. Default: the context's `stateCacheBytes`, else, without a `stateCacheSize`, a quarter
   * of the heap limit (`defaultStateCacheBytes()` from `sluice/state`). When every key's entry
   * fits, a batch reads nothing from LevelDB.
   */
  readonly stateCacheBytes?: number;
  /**
   * The stateful operators (by name, or `kind#n`) whose state the checkpoint holds and the program
   * no longer has, and whose state may be dropped: a restart that would drop state without it is
   * refused with `CHECKPOINT_INCOMPATIBLE`. The state goes with the first commit of the restarted
   * program; naming an operator the checkpoint does not hold does nothing.
   */
  readonly dropState?: readonly string[];
}

/** The checkpoint storage {@link levelCheckpoint} returns. */
export interface LevelCheckpointStorage extends CheckpointStorage {
  /** The checkpoint directory. */
  readonly directory: string;
  /** State is persisted every this many batches. */
  readonly interval: number;
  /** The `stateCacheSize` option, if given. */
  readonly stateCacheSize: number | undefined;
  /** The `stateCacheBytes` option, if given. */
  readonly stateCacheBytes: number | undefined;
  /** The stateful operators whose state the program may drop. */
  readonly dropState: readonly string[];
}

/**
 * A checkpoint in one LevelDB in `directory` (created if missing), for the `checkpoint` option of
 * a `StreamingContext`: every batch's plan is logged before it computes, and its commit record,
 * state changes and sink rows are written in one atomic batch, so a restart on the directory
 * recovers exactly once (the state at the last commit, then a replay of the logged batches after
 * it). The context keeps every stateful operator's state in it.
 *
 * @throws TypeError when `directory` is not a non-empty string.
 * @throws RangeError when `interval` is not a positive integer or `stateCacheSize` not a non-negative one.
 * @throws TypeError when `dropState` is not an array of operator names.
 * @example
 * const ctx = new StreamingContext({ batchInterval: '1s', checkpoint: levelCheckpoint('./ckpt', { interval: 5 }) });
 */
export function levelCheckpoint(directory: string, options: LevelCheckpointOptions = {}): LevelCheckpointStorage {
  if (typeof directory !== 'string' || directory === '') throw new TypeError(`levelCheckpoint: directory must be a non-empty path, got ${JSON.stringify(directory)}.`);
  const { interval = 1, stateCacheSize, stateCacheBytes } = options;
  if (!Number.isSafeInteger(interval) || interval < 1) {
    throw new RangeError(`levelCheckpoint: interval must be a positive integer (persist state every this many batches), got ${String(interval)}.`);
  }
  if (stateCacheSize !== undefined) checkStateCacheSize(stateCacheSize, 'levelCheckpoint');
  if (stateCacheBytes !== undefined) checkStateCacheBytes(stateCacheBytes, 'levelCheckpoint');
  const dropState: unknown = options.dropState ?? [];
  if (!Array.isArray(dropState) || !dropState.every((id): id is string => typeof id === 'string' && id !== '')) {
    throw new TypeError(`levelCheckpoint: dropState must be an array of the names of stateful operators, got ${JSON.stringify(dropState)}.`);
  }
  const dropped: readonly string[] = Object.freeze([...dropState]);
  return Object.freeze({
    location: directory,
    directory,
    interval,
    stateCacheSize,
    stateCacheBytes,
    dropState: dropped,
    // The context's cache settings apply where the checkpoint's own do not.
    createCheckpointer: (context: CheckpointSettings = {}) =>
      new LevelCheckpointer(directory, { interval, stateCacheSize: stateCacheSize ?? context.stateCacheSize, stateCacheBytes: stateCacheBytes ?? context.stateCacheBytes, dropState: dropped }),
  });
}

/**
 * Checks a state cache size.
 *
 * @throws RangeError naming `where` unless it is a non-negative integer.
 */
export function checkStateCacheSize(size: unknown, where: string): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`${where}: stateCacheSize must be a non-negative integer (state entries each operator keeps in memory), got ${String(size)}.`);
  }
  return size;
}

/**
 * Checks a state cache byte budget.
 *
 * @throws RangeError naming `where` unless it is a non-negative integer.
 */
export function checkStateCacheBytes(bytes: unknown, where: string): number {
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`${where}: stateCacheBytes must be a non-negative integer (bytes the state caches may hold together), got ${String(bytes)}.`);
  }
  return bytes;
}
