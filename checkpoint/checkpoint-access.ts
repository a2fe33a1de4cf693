import type { StreamingContext } from 'sluice';
import { CHECKPOINT } from './checkpoint-service.js';
import type { LevelCheckpointer } from './level-checkpointer.js';

/**
 * The LevelDB checkpointer of a checkpointed context (for its sinks, inspection and crash tests).
 *
 * @throws TypeError when the context has no checkpoint.
 */
export function checkpointerOf(ctx: StreamingContext): LevelCheckpointer {
  const checkpointer = ctx.graph.services.lookup(CHECKPOINT);
  if (checkpointer === undefined) throw new TypeError('This streaming context has no checkpoint; create it with { checkpoint: directory }.');
  return checkpointer;
}
