import type { OnError } from 'sluice';
import { definition, type Definition } from 'sluice/extend';
import type { Vector } from './vector.js';

/** Options of a model's `predictOn` and `predictOnValues`. */
export interface PredictOptions {
  /** The operator's name in errors, metrics and dead letters (default `predictOn#n`). */
  readonly name?: string;
  /** What to do with a record that cannot be scored (default: the model's `onError`, else the context's). */
  readonly onError?: OnError;
}

/** Options of `predictOn` over records of any type, scored by the vector `features` reads from each. */
export interface PredictFeaturesOptions<R> extends PredictOptions {
  /** The record's feature vector (one that throws sets the record aside by `onError`). */
  readonly features: (record: R) => Vector;
}

/**
 * A prediction operator's definition and the function that gives each record's vector.
 *
 * @throws TypeError for a bad `onError` or a `features` that is not a function.
 */
export function predictDefinition(kind: string, options: PredictOptions & { readonly features?: unknown }, modelOnError: OnError | undefined): { readonly defined: Definition; readonly vectorOf: (record: unknown) => unknown } {
  if (typeof options !== 'object' || options === null) throw new TypeError(`${kind}: options must be an object, such as { features: (r) => [r.x, r.y] }.`);
  const { features } = options;
  if (features !== undefined && typeof features !== 'function') throw new TypeError(`${kind}: features must be a function from a record to its vector, got ${typeof features}.`);
  const defined = definition(kind, { onError: options.onError ?? modelOnError, ...(options.name === undefined ? {} : { name: options.name }) });
  return { defined, vectorOf: (features as ((record: unknown) => unknown) | undefined) ?? ((record) => record) };
}

/** What {@link valueOf} gives for a record that is not a pair. */
export const NOT_A_PAIR: unique symbol = Symbol('not a pair');

/** The vector of a `[key, vector]` pair, or {@link NOT_A_PAIR}. */
export function valueOf(pair: unknown): unknown {
  return Array.isArray(pair) && pair.length === 2 ? (pair[1] as unknown) : NOT_A_PAIR;
}
