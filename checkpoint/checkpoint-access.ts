import type { Checkpointer, DStreamGraph } from 'sluice/extend';
import type { StreamingContext } from 'sluice';
import { LevelCheckpointer } from './level-checkpointer.js';

/**
 * The LevelDB checkpointer of a checkpointed context (for its sinks, inspection and tools), found
 * through any decorators of it (`Checkpointer.inner`).
 *
 * @throws TypeError when the context has no LevelDB checkpoint.
 */
export function checkpointerOf(ctx: StreamingContext): LevelCheckpointer {
  const checkpointer = levelCheckpointerOf(ctx.graph);
  if (checkpointer === undefined) throw new TypeError('This streaming context has no LevelDB checkpoint; create it with { checkpoint: levelCheckpoint(directory) }.');
  return checkpointer;
}

/** The LevelDB checkpointer of a graph, if its context has one (under any decorators). */
export function levelCheckpointerOf(graph: DStreamGraph): LevelCheckpointer | undefined {
  for (let c: Checkpointer | undefined = graph.checkpointer; c !== undefined; c = c.inner) {
    if (c instanceof LevelCheckpointer) return c;
  }
  return undefined;
}
