import { expect } from 'vitest';
import { ManualClock, SluiceError, StreamingContext, type DStream } from 'sluice';

/** What {@link runManually} observed. */
export interface ManualRun {
  /** The error the context terminated with, if any. */
  readonly error: unknown;
  /** How many batches the test advanced the clock by. */
  readonly advanced: number;
}

/**
 * Runs a graph with its own outputs on a fresh context and `ManualClock`: `define` registers any
 * outputs (foreachBatch collectors, several of them, ...). Advances `numBatches` batch intervals
 * (default: one per input batch) whether or not a batch failed, then stops.
 */
export async function runManually<T>(
  input: readonly (readonly T[])[],
  define: (stream: DStream<T>) => void,
  options: { readonly numBatches?: number; readonly numPartitions?: number } = {},
): Promise<ManualRun> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: options.numPartitions ?? 2 });
  define(ctx.queueStream(input.map((records) => [...records])));
  let error: unknown;
  const terminated = ctx.awaitTermination().catch((e: unknown) => {
    error = e;
  });
  await ctx.start();
  const numBatches = options.numBatches ?? input.length;
  for (let i = 0; i < numBatches; i++) await clock.advance(1000);
  await ctx.stop();
  await terminated;
  return { error, advanced: numBatches };
}

/** The error `promise` rejects with (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it resolved');
}

/**
 * Asserts that `error` is the `USER_FUNCTION_FAILED` error of a failed batch: it names the
 * operator and the batch, and its cause is what the user function threw.
 */
export function expectUserFunctionFailed(
  error: unknown,
  expected: { readonly operator: RegExp | string; readonly batchId: number; readonly cause: unknown },
): void {
  expect(error).toBeInstanceOf(SluiceError);
  const failure = error as SluiceError;
  expect(failure.code).toBe('USER_FUNCTION_FAILED');
  if (typeof expected.operator === 'string') expect(failure.operator).toBe(expected.operator);
  else expect(failure.operator).toMatch(expected.operator);
  expect(failure.batchId).toBe(expected.batchId);
  expect(failure.batchTime).toBe((expected.batchId + 1) * 1000);
  expect(failure.cause).toBe(expected.cause);
  expect(failure.message).toContain(failure.operator);
}
