/**
 * A feature vector: an array of finite numbers, or a `Float64Array` (or any other array-like of
 * numbers). Every vector a model is given must have the model's `dimensions`.
 */
export type Vector = ArrayLike<number>;

/**
 * Why `value` is not a vector of `dimensions` finite numbers, or `undefined` when it is one. Reads
 * the vector in place: nothing is allocated unless it is bad.
 */
export function vectorProblem(value: unknown, dimensions: number): string | undefined {
  if (typeof value !== 'object' || value === null || typeof (value as { length?: unknown }).length !== 'number') {
    return `expected a vector (an array or Float64Array of ${dimensions} numbers), got ${value === null ? 'null' : typeof value}`;
  }
  const vector = value as Vector;
  if (vector.length !== dimensions) return `expected a vector of ${dimensions} numbers (the model's dimensions), got one of ${vector.length}`;
  for (let i = 0; i < dimensions; i++) {
    const x = vector[i];
    if (typeof x !== 'number' || !Number.isFinite(x)) return `expected finite numbers, got ${String(x)} at index ${i}`;
  }
  return undefined;
}

/**
 * Checks a vector given as an option (initial centers, initial weights).
 *
 * @throws TypeError naming `what` when it is not a vector of `dimensions` finite numbers.
 */
export function checkVectorOption(kind: string, what: string, value: unknown, dimensions: number): Float64Array {
  const problem = vectorProblem(value, dimensions);
  if (problem !== undefined) throw new TypeError(`${kind}: ${what}: ${problem}.`);
  return Float64Array.from(value as Vector);
}
