import type { GraphFingerprint } from 'sluice/extend';

/**
 * The first difference between the fingerprint a checkpoint was written with and the program's,
 * in words that name the operator; `undefined` when they match.
 */
export function compareFingerprints(saved: GraphFingerprint, current: GraphFingerprint): string | undefined {
  if (saved.batchIntervalMs !== current.batchIntervalMs) {
    return `the batch interval was ${saved.batchIntervalMs} ms and is now ${current.batchIntervalMs} ms`;
  }
  const sources = Math.max(saved.sources.length, current.sources.length);
  for (let i = 0; i < sources; i++) {
    if (saved.sources[i] !== current.sources[i]) {
      return `source ${i + 1} was ${quote(saved.sources[i])} and is now ${quote(current.sources[i])}`;
    }
  }
  const operators = Math.max(saved.operators.length, current.operators.length);
  for (let i = 0; i < operators; i++) {
    const was = saved.operators[i];
    const now = current.operators[i];
    if (was?.id !== now?.id || was?.kind !== now?.kind) {
      return `operator ${i} was ${was === undefined ? 'absent' : `'${was.id}' (${was.kind})`} and is now ${now === undefined ? 'absent' : `'${now.id}' (${now.kind})`}`;
    }
  }
  return undefined;
}

function quote(name: string | undefined): string {
  return name === undefined ? 'absent' : `'${name}'`;
}
