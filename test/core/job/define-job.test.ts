import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defineJob, filter, foreachBatch, isJobDefinition, ManualClock, map, mapToPair, SluiceError, type StreamingContext } from 'sluice';
import { inspectCheckpoint, levelCheckpoint } from 'sluice/checkpoint';
import { updateStateByKey } from 'sluice/state';
import { fullFingerprintOf } from '../../../core/internal.js';
import { useTempDir } from '../../support/temp-dir.js';

const dir = useTempDir();

/** Counts per key of a rate source, 3 records a batch, into `seen`. */
function counting(ctx: StreamingContext, seen: number[][], name = 'counts'): void {
  const input = ctx.rateStream({ name: 'rate', rowsPerSecond: 3, startTime: 0, backfill: true, generate: (i) => i });
  input.pipe(
    mapToPair((i: number) => [`k${i % 2}`, 1]),
    updateStateByKey((ones: number[], n: number | undefined) => (n ?? 0) + ones.length, { name }),
    foreachBatch(() => undefined, { name: 'counted' }),
  );
  input.pipe(foreachBatch((records) => void seen.push([...records])));
}

async function thrown(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('defineJob', () => {
  it('creates the context from the options and the build function, not started', async () => {
    const clock = new ManualClock();
    const seen: number[][] = [];
    const job = defineJob({ batchInterval: 1000 }, (ctx) => { counting(ctx, seen); });
    expect(isJobDefinition(job)).toBe(true);
    expect(isJobDefinition({ options: {}, build: () => undefined })).toBe(false);
    const ctx = await job.create({ clock });
    expect(ctx.state).toBe('initialized');
    expect(ctx.clock).toBe(clock);
    expect(ctx.batchInterval).toBe(1000);
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(seen).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });

  it('gives the same full fingerprint every time it is built: every node with its kind, name, inputs, source and state, and every output', async () => {
    const job = defineJob({ batchInterval: '1s' }, (ctx) => { counting(ctx, []); });
    const a = fullFingerprintOf((await job.create()).graph);
    expect(a).toEqual(fullFingerprintOf((await job.create()).graph));
    expect(a.batchIntervalMs).toBe(1000);
    expect(a.nodes.map((n) => [n.id, n.kind, n.name, n.parents])).toEqual([
      [0, 'rate', 'rate', []],
      [1, 'mapToPair', 'mapToPair#1', [0]],
      [2, 'updateStateByKey', 'counts', [1]],
    ]);
    expect(a.nodes[0]?.source).toEqual({ name: 'rate', kind: 'rate' });
    expect(a.nodes[2]?.state).toEqual({ config: {}, version: 1 });
    expect(a.outputs).toEqual([
      { name: 'counted', stream: 2 },
      { name: 'foreachBatch#1', stream: 0 },
    ]);
  });

  it('refuses with JOB_NOT_DETERMINISTIC a job whose operator names are random, naming the node and saying why', async () => {
    const job = defineJob({ batchInterval: 1000 }, (ctx) => { counting(ctx, [], `counts-${Math.random()}`); });
    const error = await thrown(job.create());
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as SluiceError).code).toBe('JOB_NOT_DETERMINISTIC');
    expect((error as SluiceError).message).toMatch(/^The job built a different graph when it was built again \(node 2: 'counts-0\.\d+' \(updateStateByKey\) from \[1\] with state .* the first time, 'counts-0\.\d+' \(updateStateByKey\) from \[1\] .* the second time\)\. .*Math\.random\(\).*side effects out of the module's top level/);
    expect((error as SluiceError).operator).toMatch(/^counts-0\./);
  });

  it('refuses a job whose build depends on state outside it (a counter at the module level): a node only the first build adds', async () => {
    let builds = 0;
    const job = defineJob({ batchInterval: 1000 }, (ctx) => {
      const input = ctx.queueStream<number>([], { name: 'queue' });
      const stream = builds++ === 0 ? input.pipe(map((x: number) => x + 1)) : input;
      stream.pipe(foreachBatch(() => undefined));
    });
    const error = await thrown(job.create());
    expect(error).toMatchObject({ code: 'JOB_NOT_DETERMINISTIC', message: expect.stringContaining("node 1: 'map#1' (map) from [0] the first time, absent the second time") as unknown });
  });

  it('names an output that differs, and inputs wired differently', async () => {
    let builds = 0;
    const rewired = defineJob({ batchInterval: 1000 }, (ctx) => {
      const a = ctx.queueStream<number>([], { name: 'a' });
      const b = ctx.queueStream<number>([], { name: 'b' });
      (builds++ === 0 ? a : b).pipe(filter((x: number) => x > 0), foreachBatch(() => undefined));
    });
    expect(await thrown(rewired.create())).toMatchObject({ message: expect.stringContaining("node 2: 'filter#2' (filter) from [0] the first time, 'filter#2' (filter) from [1] the second time") as unknown });
    let outputs = 0;
    const renamed = defineJob({ batchInterval: 1000 }, (ctx) => {
      ctx.queueStream<number>([], { name: 'a' }).pipe(foreachBatch(() => undefined, { name: `out-${outputs++}` }));
    });
    expect(await thrown(renamed.create())).toMatchObject({ message: expect.stringContaining("output 0: 'out-0' of node 0 the first time, 'out-1' of node 0 the second time") as unknown });
  });

  it('with a checkpoint behaves like getOrCreate: a second context created from it resumes where the first stopped', async () => {
    const path = join(dir(), 'ckpt');
    const seen: number[][] = [];
    const job = defineJob({ batchInterval: 1000, checkpoint: levelCheckpoint(path) }, (ctx) => { counting(ctx, seen); });
    const clock = new ManualClock();
    const first = await job.create({ clock });
    await first.start();
    await clock.advance(2000);
    await first.stop();
    const second = await job.create({ clock });
    await second.start();
    await clock.advance(1000);
    await second.stop();
    expect(seen).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7, 8],
    ]);
    expect((await inspectCheckpoint(path)).lastCommitted?.batchId).toBe(2);
  });

  it('refuses options that are not an object and a build that is not a function', () => {
    expect(() => defineJob(undefined as never, () => undefined)).toThrow(/^defineJob: pass the options/);
    expect(() => defineJob({ batchInterval: 1000 }, 'build' as never)).toThrow(/^defineJob: pass, after the options, the function/);
  });
});
