import { setTimeout as delay } from 'node:timers/promises';
import { foreachBatch, keyBy, type ManualClock, mapToPair, mapValues, StreamingContext, type StreamingContextOptions } from 'sluice';
import { levelCheckpoint, type LevelCheckpointOptions } from 'sluice/checkpoint';
import type { StateQueryResult } from 'sluice/sql';
import { updateStateByKey } from 'sluice/state';
import { agg, countByWindow, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';

/** How {@link queryStateJob} runs: without a checkpoint, or with one at `path` (and its options). */
export interface QueryStateJobOptions {
  readonly checkpoint?: { readonly path: string } & LevelCheckpointOptions;
  readonly pipelinedCommit?: boolean;
}

/**
 * Record i (4 a batch) is counted under `user-<i % 3>` ('counts') and under 'all' ('total'), and
 * by a window longer than any run ('windowCount', a countByWindow), so after batch k the counts
 * sum to the total, the window's last result is the same 4 (k + 1), and its batch time is batch
 * k's; with a checkpoint, also summed per `user-<i % 3>` in 1 s tumbling event-time windows
 * ('sums', record i at i * 100 ms).
 */
export function queryStateJob(clock: ManualClock, options: QueryStateJobOptions = {}): StreamingContext {
  const { checkpoint } = options;
  const { path, ...checkpointOptions } = checkpoint ?? { path: '' };
  const contextOptions: StreamingContextOptions = {
    batchInterval: 1000,
    clock,
    ...(checkpoint === undefined ? {} : { checkpoint: levelCheckpoint(path, checkpointOptions) }),
    ...(options.pipelinedCommit === undefined ? {} : { pipelinedCommit: options.pipelinedCommit }),
  };
  const ctx = new StreamingContext(contextOptions);
  const input = ctx.rateStream({ name: 'rate', rowsPerSecond: 1000, startTime: 0, maxRecordsPerBatch: 4, generate: (i) => i });
  const count = (ones: number[], n: number | undefined): number => (n ?? 0) + ones.length;
  input.pipe(mapToPair((i: number) => [`user-${i % 3}`, 1]), updateStateByKey(count, { name: 'counts' }), foreachBatch(() => undefined));
  // Each batch takes a while, so that the queries meet batches at every step of their commits.
  input.pipe(mapToPair(() => ['all', 1]), updateStateByKey(count, { name: 'total' }), foreachBatch(() => delay(10)));
  input.pipe(countByWindow('1000s', '1s', { name: 'windowCount' }), foreachBatch(() => undefined));
  // And each commit too: a query meets batches computed and not yet committed.
  ctx.graph.addCommitParticipant({ name: 'slow prepare', prepare: () => delay(10), committed: () => undefined, aborted: () => undefined, handOff: () => undefined });
  if (checkpoint !== undefined) {
    input.pipe(
      withWatermark((i: number) => i * 100, 0),
      keyBy((i: number) => `user-${i % 3}`),
      mapValues(() => 1),
      eventTimeWindow(tumbling('1s'), agg.sum(), { name: 'sums' }),
      foreachBatch(() => undefined),
    );
  }
  return ctx;
}

/** The query that checks one committed batch: state tables and the window's last result agree. */
export const CONSISTENCY = 'SELECT (SELECT sum(value) FROM counts) AS counted, (SELECT value FROM total) AS total, (SELECT value FROM "windowCount") AS windowed, (SELECT epoch_ms(batch_time) FROM "windowCount") AS at';

/**
 * Runs `ctx` (started, its first batch committed) for 25 batches while querying it with
 * {@link CONSISTENCY} as fast as it answers; resolves with every answer (the last after the run).
 */
export async function queryWhileRunning(ctx: StreamingContext, clock: ManualClock, query: (ctx: StreamingContext, sql: string) => Promise<StateQueryResult>): Promise<StateQueryResult[]> {
  let done = false;
  const running = clock.advance(25_000).finally(() => {
    done = true;
  });
  const seen: StateQueryResult[] = [];
  while (!done) seen.push(await query(ctx, CONSISTENCY));
  await running;
  seen.push(await query(ctx, CONSISTENCY));
  return seen;
}
