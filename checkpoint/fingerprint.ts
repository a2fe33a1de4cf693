import type { GraphFingerprint, StatefulOperatorFingerprint } from 'sluice/extend';

/**
 * What a program would do with a checkpoint written by another (or the same) program: the
 * upgrade rules of docs/exactly-once.md. Stateless operators and sinks are not compared.
 */
export interface Compatibility {
  /** Why the program cannot resume the checkpoint, naming the operator and the field; `undefined` when it can. */
  readonly refused: string | undefined;
  /** Stateful operators whose state the program keeps as it is. */
  readonly kept: readonly string[];
  /** Stateful operators the checkpoint does not hold: they start with empty state. */
  readonly added: readonly string[];
  /** Stateful operators the program no longer has, whose state it drops (as `dropState` allows). */
  readonly dropped: readonly string[];
  /** Stateful operators whose values the program migrates from an older state version. */
  readonly migrated: readonly { readonly id: string; readonly from: number; readonly to: number }[];
}

/**
 * Compares the fingerprint a checkpoint was written with to the program's:
 * - refused: another batch interval or other sources; a stateful operator of another kind under
 *   the same id, with another configuration (what its state means), or with an older state
 *   version; a stateful operator the program no longer has, unless `dropState` names it;
 * - allowed: stateless operators and sinks changed in any way; stateful operators added (they
 *   start empty); state versions raised (the values are migrated).
 */
export function compatibility(saved: GraphFingerprint, current: GraphFingerprint, dropState: readonly string[]): Compatibility {
  const result = { refused: undefined as string | undefined, kept: [] as string[], added: [] as string[], dropped: [] as string[], migrated: [] as { id: string; from: number; to: number }[] };
  const refuse = (why: string): Compatibility => ({ ...result, refused: why });
  if (saved.batchIntervalMs !== current.batchIntervalMs) {
    return refuse(`the batch interval was ${saved.batchIntervalMs} ms and is now ${current.batchIntervalMs} ms`);
  }
  const sources = Math.max(saved.sources.length, current.sources.length);
  for (let i = 0; i < sources; i++) {
    if (saved.sources[i] !== current.sources[i]) return refuse(`source ${i + 1} was ${quote(saved.sources[i])} and is now ${quote(current.sources[i])}`);
  }
  const before = new Map(saved.stateful.map((op) => [op.id, op]));
  for (const now of current.stateful) {
    const was = before.get(now.id);
    before.delete(now.id);
    if (was === undefined) {
      result.added.push(now.id);
      continue;
    }
    const difference = differenceOf(was, now);
    if (difference !== undefined) return refuse(difference);
    if (now.version > was.version) result.migrated.push({ id: now.id, from: was.version, to: now.version });
    else result.kept.push(now.id);
  }
  for (const [id, was] of before) {
    if (!dropState.includes(id)) {
      return refuse(`it holds the state of the stateful operator '${id}' (${was.kind}), which the program no longer has. To drop that state, restart with the option dropState: ['${id}'] (of levelCheckpoint or getOrCreate); to keep it, keep the operator, under the same name`);
    }
    result.dropped.push(id);
  }
  return result;
}

/** How a stateful operator's stored state would change meaning, in words; `undefined` when it keeps it. */
function differenceOf(was: StatefulOperatorFingerprint, now: StatefulOperatorFingerprint): string | undefined {
  const id = `the stateful operator '${now.id}'`;
  if (was.kind !== now.kind) return `${id} was a ${was.kind} and is now a ${now.kind}: its state would mean something else. Give the new operator another name`;
  for (const field of new Set([...Object.keys(was.config), ...Object.keys(now.config)])) {
    const before = was.config[field];
    const after = now.config[field];
    if (before !== after) {
      return `${id} (${now.kind}) had ${field} ${show(before)} and now has ${show(after)}: its stored state would mean something else. Keep ${field} ${show(before)}, or give the changed operator another name (its state then starts empty, and the old one's is dropped with dropState: ['${now.id}'])`;
    }
  }
  if (now.version < was.version) {
    return `${id} (${now.kind}) stored its values at state version ${was.version}, and this program reads version ${now.version}: it cannot read values of a newer version. Run the program that wrote them, or one with version ${was.version} or above`;
  }
  return undefined;
}

/** Words for what a program changes of a checkpoint, for the log: empty when nothing changes. */
export function describeChanges(c: Compatibility): string[] {
  return [
    ...c.added.map((id) => `the stateful operator '${id}' is new: its state starts empty`),
    ...c.dropped.map((id) => `the state of the stateful operator '${id}', which the program no longer has, is dropped (dropState)`),
    ...c.migrated.map(({ id, from, to }) => `the state of '${id}' is migrated from version ${from} to ${to} as it is read`),
  ];
}

function show(value: unknown): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}

function quote(name: string | undefined): string {
  return name === undefined ? 'absent' : `'${name}'`;
}
