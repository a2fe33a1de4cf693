import fc from 'fast-check';

/*
 * The one fast-check configuration of every property test (a vitest setup file, so it applies to
 * every test file, and to the kit's suites, which import the same fast-check). A failure's report
 * carries its seed and path and every failing value met while shrinking. `FC_SEED=<seed>` runs
 * every property with that seed, to replay a failure: `FC_SEED=-1234 npx vitest run test/path`.
 * Options a test passes to `fc.assert` win over these (a test may pin its own seed or numRuns).
 */

/** The seed `FC_SEED` names, or `undefined` (fast-check then draws one per property). */
export function seedFromEnvironment(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const seed = Number(value);
  if (seed !== (seed | 0)) {
    throw new RangeError(`FC_SEED must be a 32-bit integer, as fast-check prints it after 'seed: ', got ${JSON.stringify(value)}.`);
  }
  return seed;
}

const seed = seedFromEnvironment(process.env['FC_SEED']);
fc.configureGlobal({ verbose: fc.VerbosityLevel.Verbose, ...(seed === undefined ? {} : { seed }) });
