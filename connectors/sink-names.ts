import type { DStream } from 'sluice';

/*
 * A connector sink's name keys what it records outside Sluice (a progress row, message ids), so
 * two sinks of one kind with one name in a program would take each other's batches for their own.
 */

/** The names taken per graph, by sink kind. */
const TAKEN = new WeakMap<object, Map<string, Set<string>>>();

/**
 * Takes `name` for a sink of `kind` on `stream`'s graph.
 *
 * @param why - what the name keys, for the message (`'its progress is recorded under it'`).
 * @throws TypeError when another sink of that kind in the program has the name.
 */
export function claimSinkName(stream: DStream<unknown>, kind: string, name: string, why: string): void {
  let kinds = TAKEN.get(stream.graph);
  if (kinds === undefined) {
    kinds = new Map();
    TAKEN.set(stream.graph, kinds);
  }
  let names = kinds.get(kind);
  if (names === undefined) {
    names = new Set();
    kinds.set(kind, names);
  }
  if (names.has(name)) throw new TypeError(`${kind}: another ${kind} of this program is named '${name}'; give each one its own name option (${why}).`);
  names.add(name);
}
