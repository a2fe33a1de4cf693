import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { seedFromEnvironment } from './fast-check-setup.js';

describe('the shared fast-check configuration (vitest setup file)', () => {
  it('applies to test files: failures are verbose, and FC_SEED, when set, is every property’s seed', () => {
    const seed = seedFromEnvironment(process.env['FC_SEED']);
    expect(fc.readConfigureGlobal()).toEqual({ verbose: fc.VerbosityLevel.Verbose, ...(seed === undefined ? {} : { seed }) });
    const details = fc.check(fc.property(fc.nat(), (n) => n < 0));
    expect(details.failed).toBe(true);
    if (seed !== undefined) expect(details.seed).toBe(seed);
    expect(fc.defaultReportMessage(details)).toMatch(/\{ seed: -?\d+, path: "[\d:]+", endOnFailure: true \}[\s\S]*Encountered failures were:/);
  });

  it('reads FC_SEED as a 32-bit integer, and refuses anything else with a message that says what to pass', () => {
    expect([undefined, '', '123', '-1947912309', ' 7 '].map(seedFromEnvironment)).toEqual([undefined, undefined, 123, -1947912309, 7]);
    for (const bad of ['abc', '1.5', '4294967296', 'NaN']) expect(() => seedFromEnvironment(bad)).toThrow(/FC_SEED must be a 32-bit integer/);
  });
});
