import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import type { CheckpointIdentity, CheckpointStorage } from 'sluice/extend';
import { faultyCheckpoint } from 'sluice/testing';
import { runFor, useTempDir } from './checkpoint-harness.js';

/*
 * Commit participants hear the checkpoint's id at start, and it is the same across restarts, also
 * after a crash before the first commit: a sink to an external system keys its idempotence
 * records by it, and a batch it wrote before that crash is replayed under the same id.
 */

const dir = useTempDir();

/** Starts a job on `checkpoint`, runs `batches` batches, and returns the identity its participant heard. */
async function identityOf(checkpoint: CheckpointStorage, batches = 2): Promise<{ identity: CheckpointIdentity | undefined; restored: number | undefined; error: unknown }> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint });
  ctx.rateStream({ name: 'rate', rowsPerSecond: 2, startTime: 0 }).pipe(foreachBatch(() => undefined));
  const heard: { identity: CheckpointIdentity | undefined; restored: number | undefined } = { identity: undefined, restored: undefined };
  ctx.graph.addCommitParticipant({
    name: 'spy',
    initialize: (restored, identity) => {
      heard.restored = restored;
      heard.identity = identity;
    },
    prepare: () => undefined,
    committed: () => undefined,
    aborted: () => undefined,
  });
  let error: unknown;
  await runFor(ctx, clock, batches);
  await ctx.stop().catch((e: unknown) => (error = e));
  return { ...heard, error };
}

describe('the checkpoint id participants hear', () => {
  it('is undefined without a checkpoint', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    ctx.queueStream([[1]]).pipe(foreachBatch(() => undefined));
    let heard: CheckpointIdentity | undefined | 'not called' = 'not called';
    ctx.graph.addCommitParticipant({ name: 'spy', initialize: (_r, identity) => void (heard = identity), prepare: () => undefined, committed: () => undefined, aborted: () => undefined });
    await runFor(ctx, clock, 1);
    await ctx.stop();
    expect(heard).toBeUndefined();
  });

  it('is the same on every restart, and another checkpoint has another', async () => {
    const first = await identityOf(levelCheckpoint(join(dir(), 'a')));
    const again = await identityOf(levelCheckpoint(join(dir(), 'a')));
    const other = await identityOf(levelCheckpoint(join(dir(), 'b')));
    expect(first.identity?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.restored).toBeUndefined();
    expect(again.identity).toEqual(first.identity);
    expect(again.restored).toBe(1);
    expect(other.identity?.id).not.toBe(first.identity?.id);
  });

  it('survives a crash before the first commit: the batch is replayed under the same id', async () => {
    const path = join(dir(), 'c');
    const crashed = await identityOf(faultyCheckpoint(levelCheckpoint(path), { beforeWrite: (batchId) => batchId === 0 }), 1);
    expect(crashed.restored).toBeUndefined();
    const restarted = await identityOf(levelCheckpoint(path));
    expect(restarted.restored).toBeUndefined();
    expect(restarted.identity).toEqual(crashed.identity);
  });
});
