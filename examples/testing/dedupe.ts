import { keyBy, type DurationLike, type Key, type Operator } from 'sluice';
import { mapWithState, stateSpec, type State } from 'sluice/state';

/**
 * Drops repeats: a record is emitted unless a record with the same id was emitted at most `ttl`
 * earlier (on batch time); within a batch, the first record of an id wins. An id is remembered
 * for `ttl` after it was emitted, then forgotten, so the state stays bounded.
 *
 * @param id - the record's id (any key: a string, a number, an array of these).
 * @param ttl - how long an emitted id is remembered: ms or a duration such as `'10m'`.
 * @param name - the name of its state (unique per context).
 * @example clicks.pipe(dedupeWithin((c) => c.clickId, '10m'))
 */
export function dedupeWithin<T, K extends Key>(id: (record: T) => K, ttl: DurationLike, name = 'dedupe'): Operator<T, T> {
  const spec = stateSpec((_id: K, record: T | undefined, seen: State<true>) => {
    if (seen.exists()) return undefined;
    seen.update(true);
    return record;
  })
    .ttl(ttl)
    .name(name);
  return (stream) => stream.pipe(keyBy(id), mapWithState(spec));
}
