import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { foreachBatch, keyBy, ManualClock, mapToPair, StreamingContext, type DStream, type Pair, type SluiceError } from 'sluice';
import { LevelStateBackend, mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { rejectionOf } from '../core/run-manually.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A LevelDB database in a temporary directory (removed after the test), with a backend on it that keeps no cache, so every batch reads the database. */
async function levelDb(): Promise<{ db: Level; backend: LevelStateBackend }> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-operator-errors-'));
  const db = new Level(dir);
  await db.open();
  cleanups.push(async () => {
    if (db.status === 'open') await db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { db, backend: LevelStateBackend.fromDatabase(db, { cacheSize: 0 }) };
}

/** Runs batch 0 of `build` over ['a', 'b'] then, after `between`, batch 1 over ['a']; the error that stopped the context. */
async function failureOfSecondBatch(build: (words: DStream<string>) => DStream<unknown>, between: () => Promise<void> | void): Promise<SluiceError> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: 1 });
  build(ctx.queueStream([['a', 'b'], ['a']])).pipe(foreachBatch(() => undefined));
  await ctx.start();
  await clock.advance(1000);
  await between();
  await clock.advance(1000);
  return (await rejectionOf(ctx.awaitTermination())) as SluiceError;
}

const pairs = (s: DStream<string>): DStream<Pair<string, number>> => s.pipe(mapToPair((w: string) => [w, 1] as const));
const total = (ones: number[], sum: number | undefined): number => (sum ?? 0) + ones.length;

/** Writes bytes that are no encoded value over every committed row of operator `id`. */
async function damageRows(db: Level, id: string): Promise<void> {
  const rows = db.sublevel<Buffer, Uint8Array>(['state', id], { keyEncoding: 'buffer', valueEncoding: 'view' });
  for await (const key of rows.keys()) await rows.put(key, Uint8Array.of(2, 0xc1));
}

describe('a stateful operator whose state store fails', () => {
  it('updateStateByKey: a damaged stored value fails the batch with STATE_CORRUPT naming the operator, not USER_FUNCTION_FAILED', async () => {
    const { db, backend } = await levelDb();
    const update = vi.fn(total);
    const error = await failureOfSecondBatch((s) => pairs(s).pipe(updateStateByKey(update, { name: 'counts', stateBackend: backend })), () => damageRows(db, 'counts'));
    expect(error).toMatchObject({ code: 'STATE_CORRUPT', operator: 'counts', batchId: 1 });
    expect(error.message).toMatch(/^Operator counts failed in batch 1 \(batch time 2000\): State store 'counts': the value of key 0x[0-9a-f]+ cannot be decoded: .*The batch was not committed and the context stopped\.$/);
    expect(error.message).not.toMatch(/Fix the function/);
    // The update function never saw the damaged state.
    expect(update).toHaveBeenCalledTimes(2);
  });

  it('updateStateByKey: a LevelDB read that fails fails the batch with STATE_IO_FAILED naming the operator', async () => {
    const { db, backend } = await levelDb();
    const disk = new Error('IO error: disk gone');
    const error = await failureOfSecondBatch((s) => pairs(s).pipe(updateStateByKey(total, { name: 'counts', stateBackend: backend })), () => {
      vi.spyOn(db, 'iterator').mockImplementationOnce(() => {
        throw disk;
      });
    });
    expect(error).toMatchObject({ code: 'STATE_IO_FAILED', operator: 'counts', batchId: 1 });
    expect(error.message).toMatch(/State store 'counts' could not scan its rows: IO error: disk gone/);
    expect((error.cause as SluiceError).cause).toBe(disk);
  });

  it('mapWithState: a closed database fails the batch with STATE_IO_FAILED naming the operator', async () => {
    const { db, backend } = await levelDb();
    const counting = stateSpec((key: string, _v: string | undefined, state: State<number>) => {
      state.update((state.getOption() ?? 0) + 1);
      return key;
    });
    const error = await failureOfSecondBatch((s) => s.pipe(keyBy((w: string) => w), mapWithState(counting.name('seen').stateBackend(backend))), () => db.close());
    expect(error).toMatchObject({ code: 'STATE_IO_FAILED', operator: 'seen', batchId: 1 });
    expect(error.message).toMatch(/^Operator seen failed in batch 1 .*: State store 'seen' could not read 1 key\(s\): Database is not open/);
    expect(error.message).not.toMatch(/Fix the function/);
  });

  it('mapWithState: a damaged stored value fails the batch with STATE_CORRUPT, the function is not called', async () => {
    const { db, backend } = await levelDb();
    const calls: string[] = [];
    const counting = stateSpec((key: string, _v: string | undefined, state: State<number>) => {
      calls.push(key);
      state.update((state.getOption() ?? 0) + 1);
      return key;
    });
    const error = await failureOfSecondBatch((s) => s.pipe(keyBy((w: string) => w), mapWithState(counting.name('seen').stateBackend(backend))), () => damageRows(db, 'seen'));
    expect(error).toMatchObject({ code: 'STATE_CORRUPT', operator: 'seen', batchId: 1 });
    expect(calls).toEqual(['a', 'b']);
  });

  it('a function that throws is still USER_FUNCTION_FAILED, with its error as the cause', async () => {
    const { backend } = await levelDb();
    const boom = new Error('no state for you');
    const error = await failureOfSecondBatch(
      (s) =>
        s.pipe(
          keyBy((w: string) => w),
          mapWithState(
            stateSpec((key: string, _v: string | undefined, state: State<number>) => {
              if (state.exists()) throw boom;
              state.update(1);
              return key;
            })
              .name('seen')
              .stateBackend(backend),
          ),
        ),
      () => undefined,
    );
    expect(error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: 'seen', batchId: 1, cause: boom });
    expect(error.message).toMatch(/Fix the function/);
  });
});
