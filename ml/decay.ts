import type { DecayUnit } from './kmeans-model.js';

/** How fast a model forgets: a half-life, in batches or in points. */
export interface HalfLife {
  /** After this many batches (or points), what the model learnt before weighs half as much. */
  readonly value: number;
  /** `'batches'`: the weights decay once per batch; `'points'`: once per point of each batch. */
  readonly unit: DecayUnit;
}

/** The decay factor and its unit, from a model's `decayFactor` or `halfLife` option (neither: 1, no forgetting). */
export function decayOf(kind: string, decayFactor: unknown, halfLife: unknown): { readonly factor: number; readonly unit: DecayUnit } {
  if (decayFactor !== undefined && halfLife !== undefined) throw new TypeError(`${kind}: pass decayFactor or halfLife, not both (halfLife sets the decay factor to 0.5 ** (1 / value)).`);
  if (halfLife !== undefined) {
    const { value, unit } = (typeof halfLife === 'object' && halfLife !== null ? halfLife : {}) as Partial<HalfLife>;
    if (unit !== 'batches' && unit !== 'points') throw new TypeError(`${kind}: halfLife must be { value, unit } with unit 'batches' or 'points', got unit ${JSON.stringify(unit)}.`);
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new RangeError(`${kind}: halfLife.value must be a positive finite number of ${unit}, got ${shown(value)}.`);
    return { factor: 0.5 ** (1 / value), unit };
  }
  if (decayFactor === undefined) return { factor: 1, unit: 'batches' };
  if (typeof decayFactor !== 'number' || !(decayFactor >= 0 && decayFactor <= 1)) {
    throw new RangeError(`${kind}: decayFactor must be a number from 0 (keep only the latest batch) to 1 (forget nothing), got ${shown(decayFactor)}.`);
  }
  return { factor: decayFactor, unit: 'batches' };
}

/** Checks a positive integer option. */
export function positiveInteger(kind: string, what: string, value: unknown, hint: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new RangeError(`${kind}: ${what} must be a positive integer (${hint}), got ${shown(value)}.`);
  return value;
}

/** Checks a seed option (default 0). */
export function seedOf(kind: string, seed: unknown): number {
  if (seed === undefined) return 0;
  if (typeof seed !== 'number' || seed !== (seed | 0)) throw new RangeError(`${kind}: seed must be a 32-bit integer, got ${shown(seed)}.`);
  return seed;
}

/** A bad option's value for a message: a number as written, anything else by its type. */
export function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
