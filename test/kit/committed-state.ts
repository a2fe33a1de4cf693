import type { StreamingContext } from 'sluice';
import { StatefulDStream } from 'sluice/extend';

/**
 * Every committed row of every stateful operator of a running context, by operator id (its name
 * or `kind#position`), in key order: `[store key, stored value]` pairs as the operator's store
 * holds them. Compare two runs of the same program with it (the crash law does).
 *
 * @throws TypeError when the context has not started (its stores are not open).
 * @example expect(await committedState(recovered)).toEqual(await committedState(uninterrupted));
 */
export async function committedState(ctx: StreamingContext): Promise<Record<string, unknown[]>> {
  const state: Record<string, unknown[]> = {};
  for (const node of ctx.graph.nodes) {
    if (!(node instanceof StatefulDStream)) continue;
    const rows: unknown[] = [];
    for await (const row of node.store.scanCommitted()) rows.push(row);
    state[node.describe] = rows;
  }
  return state;
}
