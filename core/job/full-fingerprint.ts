import type { DStreamGraph } from '../graph.js';
import { InputDStream } from '../sources/input-dstream.js';
import type { StateDescriptor } from '../state-port.js';

/** One node of a {@link FullGraphFingerprint}. */
export interface NodeFingerprint {
  /** Its position in the graph. */
  readonly id: number;
  readonly kind: string;
  /** Its user-given name, or `kind#id`. */
  readonly name: string;
  /** The ids of the nodes it is computed from, in order. */
  readonly parents: readonly number[];
  /** For a source's node: the source's name and kind. */
  readonly source?: { readonly name: string; readonly kind: string };
  /** For a stateful operator: what its state means (see `StateDescriptor`). */
  readonly state?: StateDescriptor;
}

/**
 * Everything that identifies a program's graph: every node (kind, name, inputs, source, stateful
 * configuration) and every output, in creation order. Two builds of the same job must give equal
 * ones: the check behind `defineJob`, and what a worker that builds the job again (parallel
 * execution) compares with the driver's. Unlike the checkpoint's `GraphFingerprint`, which holds
 * only what a restart must keep, it covers stateless operators and outputs too.
 */
export interface FullGraphFingerprint {
  readonly batchIntervalMs: number;
  readonly nodes: readonly NodeFingerprint[];
  readonly outputs: readonly { readonly name: string; readonly stream: number }[];
}

/** The full fingerprint of `graph` (see {@link FullGraphFingerprint}). Plain data: JSON-safe. */
export function fullFingerprintOf(graph: DStreamGraph): FullGraphFingerprint {
  return {
    batchIntervalMs: graph.batchInterval,
    nodes: graph.nodes.map((node) => {
      const state = node.stateDescriptor();
      return {
        id: node.id,
        kind: node.kind,
        name: node.describe,
        parents: graph.parentsOf(node.id),
        ...(node instanceof InputDStream ? { source: { name: node.sourceName, kind: node.source.kind } } : {}),
        ...(state === undefined ? {} : { state: { config: state.config, version: state.version } }),
      };
    }),
    outputs: graph.outputs.map((output) => ({ name: output.describe, stream: output.stream.id })),
  };
}

/**
 * Where two full fingerprints first differ, in words (`node 3: 'counts-17' (updateStateByKey) from
 * [2] the first time, 'counts-42' (updateStateByKey) from [2] the second time`), or `undefined`
 * when they are equal.
 */
export function fingerprintDifference(first: FullGraphFingerprint, second: FullGraphFingerprint): string | undefined {
  if (first.batchIntervalMs !== second.batchIntervalMs) return `the batch interval: ${first.batchIntervalMs} ms the first time, ${second.batchIntervalMs} ms the second time`;
  const nodes = Math.max(first.nodes.length, second.nodes.length);
  for (let i = 0; i < nodes; i++) {
    const a = first.nodes[i];
    const b = second.nodes[i];
    if (same(a, b)) continue;
    return `node ${i}: ${nodeWords(a)} the first time, ${nodeWords(b)} the second time`;
  }
  const outputs = Math.max(first.outputs.length, second.outputs.length);
  for (let i = 0; i < outputs; i++) {
    const a = first.outputs[i];
    const b = second.outputs[i];
    if (same(a, b)) continue;
    const words = (o: typeof a): string => (o === undefined ? 'absent' : `'${o.name}' of node ${o.stream}`);
    return `output ${i}: ${words(a)} the first time, ${words(b)} the second time`;
  }
  return undefined;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function nodeWords(node: NodeFingerprint | undefined): string {
  if (node === undefined) return 'absent';
  const source = node.source === undefined ? '' : ` reading source '${node.source.name}' (${node.source.kind})`;
  const state = node.state === undefined ? '' : ` with state ${JSON.stringify(node.state)}`;
  return `'${node.name}' (${node.kind}) from [${node.parents.join(', ')}]${source}${state}`;
}
