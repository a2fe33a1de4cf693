import { describe, expect, it } from 'vitest';
import { seededRandom } from '../kit/seeded-random.js';

const take = (next: () => number, n: number): number[] => Array.from({ length: n }, next);

describe('seededRandom', () => {
  it('gives mulberry32’s sequence: the generated data of the examples and the benchmarks depends on it', () => {
    expect(take(seededRandom(42), 3)).toEqual([0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  });

  it('gives the same sequence for the same seed, and only the seed’s low 32 bits count', () => {
    expect(take(seededRandom(7), 50)).toEqual(take(seededRandom(7), 50));
    expect(take(seededRandom(7 + 2 ** 32), 5)).toEqual(take(seededRandom(7), 5));
    expect(take(seededRandom(-1), 5)).toEqual(take(seededRandom(2 ** 32 - 1), 5));
    expect(take(seededRandom(8), 5)).not.toEqual(take(seededRandom(7), 5));
  });

  it('gives numbers in [0, 1), spread over the interval', () => {
    const values = take(seededRandom(1), 10_000);
    expect(values.every((v) => v >= 0 && v < 1)).toBe(true);
    const tenths = new Array<number>(10).fill(0);
    for (const v of values) tenths[Math.floor(v * 10)]! += 1;
    for (const count of tenths) expect(count).toBeGreaterThan(900);
  });
});
