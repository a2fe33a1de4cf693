import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext, type StreamingEvent } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { serviceKey, type CheckpointStorage, type CommitParticipant, type PendingCommit } from 'sluice/extend';
import { checkpointerOf } from '../../../checkpoint/internal.js';
import { faultyCheckpoint, type CheckpointFaults } from 'sluice/testing';
import { useTempDir } from '../../support/temp-dir.js';

/** A participant that logs every call; `fail` makes one phase of one batch throw. */
function recording(log: string[], name: string, fail: { readonly phase?: 'prepare' | 'committed'; readonly batchId?: number } = {}): CommitParticipant {
  const failing = (phase: string, batchId: number): void => {
    if (fail.phase === phase && fail.batchId === batchId) throw new Error(`${name} cannot ${phase}`);
  };
  return {
    name,
    initialize: (restored) => void log.push(`${name}.initialize(${String(restored)})`),
    prepare: (commit: PendingCommit) => {
      failing('prepare', commit.batchId);
      log.push(`${name}.prepare(${commit.batchId}${commit.persistsState ? '' : ', kept'})`);
    },
    committed: (batchId) => {
      failing('committed', batchId);
      log.push(`${name}.committed(${batchId})`);
    },
    aborted: (batchId) => void log.push(`${name}.aborted(${batchId})`),
  };
}

/** A context on a queue source of two batches, `[1]` and `[2]`, whose output logs them. */
function job(log: string[], options: { readonly checkpoint?: CheckpointStorage; readonly failOutput?: number } = {}) {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, ...(options.checkpoint === undefined ? {} : { checkpoint: options.checkpoint }) });
  const events: StreamingEvent[] = [];
  ctx.addListener((e) => void events.push(e));
  ctx.rateStream({ rowsPerSecond: 1, startTime: 0, totalRows: 2, name: 'rate', generate: (i) => i + 1 }).pipe(
    foreachBatch((r) => {
      if (r[0] === options.failOutput) throw new Error('sink down');
      log.push(`output ${r.join()}`);
    }),
  );
  return { ctx, clock, events };
}

const tempDir = useTempDir('sluice-participants-');

describe('the two-phase commit of a batch', () => {
  it('prepares every participant after the outputs, then tells each that the batch committed, in registration order', async () => {
    const log: string[] = [];
    const { ctx, clock } = job(log);
    ctx.graph.addCommitParticipant(recording(log, 'a'));
    const b = recording(log, 'b');
    ctx.graph.addCommitParticipant(b);
    ctx.graph.addCommitParticipant(b);
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(log).toEqual([
      'a.initialize(undefined)', 'b.initialize(undefined)',
      'output 1', 'a.prepare(0)', 'b.prepare(0)', 'a.committed(0)', 'b.committed(0)',
      'output 2', 'a.prepare(1)', 'b.prepare(1)', 'a.committed(1)', 'b.committed(1)',
    ]);
  });

  it('aborts every participant when an output fails, without preparing any, and the batch fails', async () => {
    const log: string[] = [];
    const { ctx, clock } = job(log, { failOutput: 2 });
    ctx.graph.addCommitParticipant(recording(log, 'a'));
    await ctx.start();
    await clock.advance(2000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', batchId: 1 });
    expect(log.slice(1)).toEqual(['output 1', 'a.prepare(0)', 'a.committed(0)', 'a.aborted(1)']);
  });

  it('a failing prepare fails the batch with COMMIT_FAILED naming the participant, aborts them all and leaves source offsets unmoved', async () => {
    const log: string[] = [];
    const { ctx, clock, events } = job(log);
    ctx.graph.addCommitParticipant(recording(log, 'a'));
    ctx.graph.addCommitParticipant(recording(log, 'b', { phase: 'prepare', batchId: 1 }));
    await ctx.start();
    await clock.advance(2000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'COMMIT_FAILED', batchId: 1, message: expect.stringMatching(/b could not prepare the commit of batch 1: b cannot prepare/) as unknown });
    expect(log.slice(7)).toEqual(['output 2', 'a.prepare(1)', 'a.aborted(1)', 'b.aborted(1)']);
    expect(events.flatMap((e) => (e.type === 'batchCompleted' ? [e.progress.sources[0]?.endOffset] : []))).toEqual([{ rows: 1, startTime: 0 }]);
  });

  it('a failing committed stops the context with POST_COMMIT_FAILED after the batch completed; the participants after it are not told', async () => {
    const log: string[] = [];
    const { ctx, clock, events } = job(log);
    ctx.graph.addCommitParticipant(recording(log, 'a', { phase: 'committed', batchId: 0 }));
    ctx.graph.addCommitParticipant(recording(log, 'b'));
    await ctx.start();
    await clock.advance(2000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'POST_COMMIT_FAILED', batchId: 0, message: expect.stringMatching(/Batch 0 committed, but a failed to complete it: a cannot committed/) as unknown });
    expect(log.slice(2)).toEqual(['output 1', 'a.prepare(0)', 'b.prepare(0)']);
    expect(events.map((e) => e.type)).toEqual(['contextStarted', 'batchStarted', 'batchCompleted', 'contextStopped']);
    expect(ctx.failure?.code).toBe('POST_COMMIT_FAILED');
  });

  it('refuses operations for the atomic write when the context has no checkpoint', async () => {
    const { ctx, clock } = job([]);
    ctx.graph.addCommitParticipant({ name: 'writer', prepare: (commit) => { commit.write([{ type: 'put' }]); }, committed: () => undefined, aborted: () => undefined });
    await ctx.start();
    await clock.advance(1000);
    await expect(ctx.awaitTermination()).rejects.toThrow(/gave operations for the atomic write, but the context has no checkpoint/);
  });
});

describe('the two-phase commit on a checkpoint', () => {
  /** A participant that writes the row `<name>/<batchId>` in the atomic write and checks it is durable when told committed. */
  function writer(ctx: StreamingContext, log: string[]): CommitParticipant {
    const rows = () => checkpointerOf(ctx).db.sublevel('test-rows', { valueEncoding: 'utf8' });
    return {
      name: 'writer',
      initialize: (restored) => void log.push(`initialize(${String(restored)})`),
      prepare: (commit) => { commit.write([{ type: 'put', sublevel: rows(), key: String(commit.batchId), value: 'x' }]); },
      committed: async (batchId) => void log.push(`committed(${batchId}): row ${(await rows().get(String(batchId))) ?? 'missing'}`),
      aborted: (batchId) => void log.push(`aborted(${batchId})`),
    };
  }

  it.each<[keyof CheckpointFaults, string[], string[]]>([
    ['beforeWrite', ['committed(0): row x', 'aborted(1)'], ['initialize(0)', 'committed(1): row x']],
    ['afterWrite', ['committed(0): row x', 'aborted(1)'], ['initialize(1)']],
    ['betweenCommitted', ['committed(0): row x'], ['initialize(1)']],
  ])('writes the participants’ operations with the commit record: a crash %s batch 1 leaves it written exactly when the commit is', async (fault, first, restarted) => {
    const checkpoint = levelCheckpoint(join(tempDir(), 'ckpt'));
    const log: string[] = [];
    const crashed = job(log, { checkpoint: faultyCheckpoint(checkpoint, { [fault]: (batchId: number) => batchId === 1 }) });
    crashed.ctx.graph.addCommitParticipant(writer(crashed.ctx, log));
    await crashed.ctx.start();
    await crashed.clock.advance(2000);
    await expect(crashed.ctx.awaitTermination()).rejects.toMatchObject({ batchId: 1 });
    expect(log.filter((l) => !l.startsWith('output') && !l.startsWith('initialize'))).toEqual(first);

    const again: string[] = [];
    const restart = job(again, { checkpoint });
    restart.ctx.graph.addCommitParticipant(writer(restart.ctx, again));
    await restart.ctx.start();
    await restart.clock.advance(2000);
    await restart.ctx.stop();
    expect(again.filter((l) => !l.startsWith('output'))).toEqual(restarted);
  });

  it('says which commits persist state: every second one with interval 2', async () => {
    const log: string[] = [];
    const { ctx, clock } = job(log, { checkpoint: levelCheckpoint(join(tempDir(), 'ckpt'), { interval: 2 }) });
    ctx.graph.addCommitParticipant(recording(log, 'a'));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(log.filter((l) => l.includes('prepare'))).toEqual(['a.prepare(0, kept)', 'a.prepare(1)']);
  });
});

describe('context services', () => {
  it('are looked up by key and run start hooks before the first batch and stop hooks after the last, in reverse', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const key = serviceKey<{ readonly name: string }>('test service');
    const log: string[] = [];
    ctx.graph.services.provide(key, { name: 'svc' });
    ctx.graph.services.onStart(() => void log.push('start 1'));
    ctx.graph.services.onStart(() => void log.push('start 2'));
    ctx.graph.services.onStop(() => void log.push('stop 1'));
    ctx.graph.services.onStop(() => void log.push('stop 2'));
    ctx.queueStream([[1]]).pipe(foreachBatch(() => void log.push(`batch ${ctx.graph.services.lookup(key)?.name ?? '?'}`)));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(log).toEqual(['start 1', 'start 2', 'batch svc', 'stop 2', 'stop 1']);
    expect(ctx.graph.services.lookup(serviceKey('other'))).toBeUndefined();
  });

  it('a failing start hook fails start, stops the sources and runs the stop hooks', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const log: string[] = [];
    ctx.graph.services.onStart(() => {
      throw new Error('cannot open store');
    });
    ctx.graph.services.onStop(() => void log.push('stopped'));
    ctx.queueStream([[1]]).pipe(foreachBatch(() => undefined));
    await expect(ctx.start()).rejects.toThrow(/cannot open store/);
    expect(ctx.state).toBe('stopped');
    expect(log).toEqual(['stopped']);
  });
});
