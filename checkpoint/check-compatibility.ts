import type { StreamingContext } from 'sluice';
import { fingerprintOf } from '../core/internal.js';
import { compatibility } from './fingerprint.js';
import { inspectCheckpoint } from './inspect.js';
import { levelCheckpoint, type LevelCheckpointOptions, type LevelCheckpointStorage } from './level-checkpoint.js';

/** What a program would do with a checkpoint: {@link checkCompatibility}'s answer. */
export interface CompatibilityReport {
  /** Whether the program may start on the checkpoint. */
  readonly compatible: boolean;
  /** Why it may not, naming the operator and the field (see `CHECKPOINT_INCOMPATIBLE`). */
  readonly refused: string | undefined;
  /** The stateful operators whose state it keeps. */
  readonly kept: readonly string[];
  /** The stateful operators the checkpoint does not hold: their state starts empty. */
  readonly added: readonly string[];
  /** The stateful operators it no longer has, whose state it drops (named in `dropState`). */
  readonly dropped: readonly string[];
  /** The stateful operators whose values it migrates from an older state version. */
  readonly migrated: readonly { readonly id: string; readonly from: number; readonly to: number }[];
}

/**
 * A pre-deploy check: what the program that `build` defines would keep, start empty, drop,
 * migrate or refuse if it started on the checkpoint in `directory`, by the upgrade rules of
 * docs/exactly-once.md, without starting it and without writing to the checkpoint. `build` is the
 * function given to `getOrCreate` (it receives the checkpoint, built with `options` as
 * `getOrCreate` would, and returns the context, which is never started).
 *
 * Like `inspectCheckpoint`, it opens the LevelDB itself, so it works on a checkpoint no context is
 * using: a stopped job's, or a copy of a running job's.
 *
 * @throws SluiceError `CHECKPOINT_UNAVAILABLE`, `CHECKPOINT_CORRUPT` or `CHECKPOINT_INCOMPATIBLE`
 * (another layout version) as `inspectCheckpoint`.
 * @example
 * const report = await checkCompatibility('./ckpt', buildJob, { dropState: ['old-sessions'] });
 * if (!report.compatible) throw new Error(report.refused);
 */
export async function checkCompatibility(
  directory: string,
  build: (checkpoint: LevelCheckpointStorage) => StreamingContext | Promise<StreamingContext>,
  options: LevelCheckpointOptions = {},
): Promise<CompatibilityReport> {
  const checkpoint = levelCheckpoint(directory, options);
  const saved = (await inspectCheckpoint(directory)).fingerprint;
  const ctx = await build(checkpoint);
  const c = compatibility(saved, fingerprintOf(ctx.graph), checkpoint.dropState);
  return { compatible: c.refused === undefined, ...c };
}
