import { describe, expect, it } from 'vitest';
import { DerivedDStream, ManualClock, StreamingContext, foreachBatch, serviceKey, type CommitParticipant, type DStream } from 'sluice';

function recording(log: string[], name: string, failOn?: number): CommitParticipant {
  return {
    commit: (batchId) => {
      if (batchId === failOn) throw new Error(`${name} cannot commit`);
      log.push(`${name}.commit(${batchId})`);
    },
    abort: (batchId) => void log.push(`${name}.abort(${batchId})`),
  };
}

/** A pass-through stream that registers `participant` in every batch. */
function participating<T>(stream: DStream<T>, participant: CommitParticipant): DStream<T> {
  return new DerivedDStream<T>('participating', [stream], ([batch], bc) => {
    bc.onCommit(participant);
    bc.onCommit(participant);
    return batch as never;
  });
}

describe('batch commit participants', () => {
  it('commit once per batch after every output succeeded, in registration order', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const log: string[] = [];
    const input = ctx.queueStream([[1], [2]]);
    participating(participating(input, recording(log, 'a')), recording(log, 'b')).pipe(foreachBatch((r) => void log.push(`output ${r.join()}`)));
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(log).toEqual(['output 1', 'a.commit(0)', 'b.commit(0)', 'output 2', 'a.commit(1)', 'b.commit(1)']);
  });

  it('are aborted when an output fails, and the batch fails', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const log: string[] = [];
    participating(ctx.queueStream([[1], [2]]), recording(log, 'a')).pipe(
      foreachBatch((r) => {
        if (r[0] === 2) throw new Error('sink down');
      }),
    );
    await ctx.start();
    await clock.advance(2000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED', batchId: 1 });
    expect(log).toEqual(['a.commit(0)', 'a.abort(1)']);
  });

  it('a failing commit fails the batch, aborts the participants and leaves source offsets unmoved', async () => {
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const log: string[] = [];
    const ends: unknown[] = [];
    ctx.addListener((e) => {
      if (e.type === 'batchCompleted') ends.push(e.progress.sources[0]?.endOffset);
    });
    participating(ctx.queueStream([[1], [2]]), recording(log, 'a', 1)).pipe(foreachBatch(() => undefined));
    await ctx.start();
    await clock.advance(2000);
    await expect(ctx.awaitTermination()).rejects.toMatchObject({ batchId: 1, message: expect.stringMatching(/a cannot commit/) as unknown });
    expect(log).toEqual(['a.commit(0)', 'a.abort(1)']);
    expect(ends).toEqual([1]);
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
