import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, map, SluiceError, StreamingContext } from 'sluice';
import { userFunctionFailed } from 'sluice/extend';
import { runBatches } from 'sluice/testing';
import { rejectionOf } from './run-manually.js';

describe('userFunctionFailed', () => {
  it('wraps what a user function threw as USER_FUNCTION_FAILED naming the operator, with it as the cause', () => {
    const boom = new RangeError('boom');
    const error = userFunctionFailed('map#1', boom);
    expect(error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: 'map#1', cause: boom, message: 'Operator map#1 threw: boom' });
  });

  it('keeps the code of a SluiceError the function threw, filling in the operator when it names none', () => {
    const io = new SluiceError('STATE_IO_FAILED', "State store 'x' could not read 1 key(s): disk gone.");
    const error = userFunctionFailed('map#1', io);
    expect(error).toBe(io);
    expect(error).toMatchObject({ code: 'STATE_IO_FAILED', operator: 'map#1' });
  });

  it('leaves a SluiceError that names an operator as it is (a fused stage downstream, a nested context)', () => {
    const inner = new SluiceError('USER_FUNCTION_FAILED', 'Operator filter#2 threw: no', { operator: 'filter#2' });
    expect(userFunctionFailed('map#1', inner)).toBe(inner);
    const corrupt = new SluiceError('STATE_CORRUPT', 'damaged', { operator: 'counts' });
    expect(userFunctionFailed('map#1', corrupt)).toMatchObject({ code: 'STATE_CORRUPT', operator: 'counts' });
  });
});

describe('an operational failure raised inside a user function', () => {
  it('fails the batch with its own code, naming the operator, not as USER_FUNCTION_FAILED with "Fix the function"', async () => {
    const stopped = new SluiceError('CONTEXT_STOPPED', 'the other context has stopped.');
    const error = await rejectionOf(
      runBatches([[1], [2]], (s) =>
        s.pipe(
          map((x: number) => {
            if (x === 2) throw stopped;
            return x;
          }),
        ),
      ),
    );
    expect(error).toMatchObject({ code: 'CONTEXT_STOPPED', operator: expect.stringMatching(/^map#\d+$/) as unknown, batchId: 1, cause: stopped });
    expect((error as Error).message).toMatch(/^Operator map#\d+ \(defined at test\/core\/operator-error\.test\.ts:\d+:\d+\) failed in batch 1 \(batch time 2000\): the other context has stopped\. The batch was not committed and the context stopped\.$/);
  });

  it('keeps the code of the failure of a nested context run inside foreachBatch', async () => {
    const outerClock = new ManualClock();
    const outer = new StreamingContext({ batchInterval: 1000, clock: outerClock });
    outer.queueStream([['go']]).pipe(
      foreachBatch(async () => {
        const clock = new ManualClock();
        const inner = new StreamingContext({ batchInterval: 1000, clock });
        inner.queueStream([[1]]).pipe(
          map(() => {
            throw new Error('inner boom');
          }),
          foreachBatch(() => undefined),
        );
        await inner.start();
        await clock.advance(1000);
        await inner.awaitTermination();
      }, { name: 'runs-inner' }),
    );
    await outer.start();
    await outerClock.advance(1000);
    const error = await rejectionOf(outer.awaitTermination());
    // The inner map's failure, named by the inner operator: not re-wrapped as the foreachBatch's.
    expect(error).toMatchObject({ code: 'USER_FUNCTION_FAILED', operator: expect.stringMatching(/^map#\d+$/) as unknown, batchId: 0 });
    expect((error as SluiceError).cause).toMatchObject({ message: 'inner boom' });
  });
});
