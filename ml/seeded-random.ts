/**
 * A small seeded pseudo-random generator (mulberry32 over a murmur3-mixed seed): the models draw
 * every random choice from one, seeded by the user's seed and the batch time, so a replayed batch
 * makes the same choices. `Math.random` is never used.
 */
export class SeededRandom {
  #state: number;

  /**
   * @param seed - a 32-bit integer.
   * @param time - a batch time (ms) mixed in, so each batch draws another sequence (default 0).
   * @param round - a round within the batch mixed in (an SGD iteration; default 0).
   */
  constructor(seed: number, time = 0, round = 0) {
    let h = mix(seed | 0);
    h = mix(h ^ (time >>> 0));
    h = mix(h ^ (Math.floor(time / 4294967296) >>> 0));
    this.#state = mix(h ^ (round | 0));
  }

  /** The next number, uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.#state ^ (this.#state >>> 15), 1 | this.#state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** murmur3's 32-bit finalizer. */
function mix(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
