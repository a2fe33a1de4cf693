import fc from 'fast-check';
import { expect } from 'vitest';

/** What a failed law reported. */
export interface LawFailure {
  /** fast-check's message: seed, path, counterexample. */
  readonly message: string;
  /** The message of the law's own error (fast-check 4 attaches it as the cause): which law broke, and how. */
  readonly cause: string;
  readonly seed: number;
  readonly path: string;
  readonly counterexample: string;
}

/**
 * Asserts that `fc.assert(property, parameters)` fails with a message that carries the seed, the
 * path and a counterexample, and that replaying that seed and path (fast-check's replay: the
 * shrunk counterexample alone, with no search and no shrinking) fails at once with the same
 * counterexample. The replay is what a user runs from the report, and costs one run of the law
 * instead of a second search and shrink.
 */
export async function expectLawToFail<Ts extends unknown[]>(property: fc.IAsyncProperty<Ts>, parameters: fc.Parameters<Ts> = {}): Promise<LawFailure> {
  const error = await fc.assert(property, parameters).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'the law must fail').toBeInstanceOf(Error);
  const message = (error as Error).message;
  const found = /seed: (-?\d+), path: "([\d:]*)"/.exec(message);
  expect(found, `the failure names its seed and path:\n${message}`).not.toBeNull();
  const [, seed, path] = found as unknown as [string, string, string];
  const counterexample = /Counterexample: (.*)/.exec(message)?.[1];
  expect(counterexample, 'the failure prints its counterexample').toBeDefined();

  const replay = await fc.check(property, { ...parameters, seed: Number(seed), path, endOnFailure: true });
  expect([replay.failed, replay.numRuns], 'seed and path replay the counterexample at once').toEqual([true, 1]);
  expect(fc.stringify(replay.counterexample)).toBe(counterexample);
  const cause = (error as Error).cause;
  expect(cause, 'the law error is the cause').toBeInstanceOf(Error);
  return { message, cause: (cause as Error).message, seed: Number(seed), path, counterexample: counterexample as string };
}
