/**
 * A small, fast, seeded generator of numbers in `[0, 1)` (mulberry32): the same seed always gives
 * the same sequence, on every platform, so generated data, random schedules and kill points can be
 * replayed from a printed seed. Not for cryptography, and not a replacement for fast-check's
 * arbitraries in property tests (they shrink; this does not).
 *
 * @param seed - any number; only its low 32 bits count (`seed >>> 0`).
 * @returns a function that returns the next number of the sequence on each call.
 * @example
 * const next = seededRandom(42);
 * const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
