import type { Checkpointer, GraphFingerprint, Recovery } from '../checkpoint-port.js';
import { SluiceError } from '../errors.js';
import type { DStreamGraph } from '../graph.js';
import { InputDStream } from '../sources/input-dstream.js';
import { offsetEquals } from '../sources/source.js';
import type { MultipleWatermarkPolicy } from '../watermark-tracker.js';
import type { BatchRunner } from './batch-runner.js';

/** The fingerprint of a graph: what a checkpoint checks before it lets a program resume it. */
export function fingerprintOf(graph: DStreamGraph): GraphFingerprint {
  return {
    batchIntervalMs: graph.batchInterval,
    sources: graph.nodes.flatMap((node) => (node instanceof InputDStream ? [node.sourceName] : [])),
    stateful: graph.nodes.flatMap((node) => {
      const state = node.stateDescriptor();
      return state === undefined ? [] : [{ id: node.describe, kind: node.kind, config: state.config, version: state.version }];
    }),
  };
}

/**
 * Asks the checkpoint where to resume, and restores the sources' offsets, the watermarks and the
 * policy that combines them. Runs before the sources start, so that a refused checkpoint lets no
 * source connect or write.
 *
 * @returns the recovery, or `undefined` for a fresh checkpoint.
 * @throws the checkpointer's own codes for an incompatible or corrupt checkpoint.
 */
export async function recover(checkpointer: Checkpointer, graph: DStreamGraph, runner: BatchRunner, zeroTime: number): Promise<Recovery | undefined> {
  const recovery = await checkpointer.recover(fingerprintOf(graph), zeroTime);
  if (recovery?.restored !== undefined) runner.restore(recovery.restored);
  const policy = recovery === undefined ? undefined : writtenWatermarkPolicy(recovery);
  if (policy !== undefined) runner.resumeWatermarkPolicy(policy, checkpointer.location);
  return recovery;
}

/**
 * The multiple-watermark policy a checkpoint was written with (Spark keeps it in its offset log
 * for the same reason: changing it midway would move watermarks unpredictably): that of its
 * restored commit, else of the first batch it replays. An entry with watermarks but no policy
 * predates the policy: `'min'`. `undefined` when the checkpoint holds no batch, or its program
 * had no watermarked stream (no policy was in force): the context's own then applies.
 */
export function writtenWatermarkPolicy(recovery: Recovery): MultipleWatermarkPolicy | undefined {
  const restored = recovery.restored?.watermarks;
  if (restored !== undefined) return restored.policy ?? (Object.keys(restored.streams).length === 0 ? undefined : 'min');
  const first = recovery.replay[0];
  if (first === undefined) return undefined;
  return first.watermarkPolicy ?? (Object.keys(first.watermarks).length === 0 ? undefined : 'min');
}

/**
 * Checks, once the sources have started (a socket source is replayable only once it has its
 * write-ahead log), that every source can give again what the recovery must replay.
 *
 * @throws SluiceError `SOURCE_OFFSET_UNAVAILABLE` when a source that is not replayable would have
 * to replay data, or to resume after records it has already given.
 */
export function checkReplayable(recovery: Recovery | undefined, runner: BatchRunner): void {
  if (recovery === undefined) return;
  runner.inputs.forEach((input, i) => {
    if (input.source.replayable) return;
    const moved = !offsetEquals(runner.offsetOf(i), input.source.initialOffset());
    const replays = recovery.replay.some((plan) => {
      const range = plan.ranges.find((r) => r.source === input.sourceName);
      return range !== undefined && !offsetEquals(range.start, range.end);
    });
    if (moved || replays) {
      throw new SluiceError(
        'SOURCE_OFFSET_UNAVAILABLE',
        `Source ${input.sourceName} (${input.source.kind}) is not replayable, but recovering this checkpoint needs it to ${replays ? 'give again the records of logged batches' : 'resume after records it has already given'}. Use a replayable source (files, a rate source, a socket with the write-ahead log), or a new checkpoint directory.`,
        { source: input.sourceName },
      );
    }
  });
}
