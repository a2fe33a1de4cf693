import type { Batch } from '../batch.js';
import type { CommitParticipant, PendingCommit } from '../commit/commit-participant.js';
import type { DStreamGraph, GraphNode } from '../graph.js';
import type { Time } from '../time.js';

/**
 * How an operator's output records read as rows (what `queryState` of `sluice/sql` makes of them):
 * `'records'`, each record a row (an object's fields, anything else one value); `'pairs'`,
 * `[key, value]` pairs; `'keyedWindows'`, `{ key, window: { start, end }, value }` records (and
 * `{ key, window, retracted: true }` tombstones), as event-time windows emit them.
 */
export type ResultShape = 'records' | 'pairs' | 'keyedWindows';

/**
 * An operator's last results: its output in the last committed batch in which it emitted records.
 * A batch in which it emitted nothing (an empty batch, or none between slides) keeps the results
 * before it: the table a window's results make does not empty between its firings.
 */
export interface LastResult {
  /** The operator's id: its `name`, or `kind#n`. */
  readonly operator: string;
  readonly kind: string;
  readonly shape: ResultShape;
  /** The batch whose output this is, and its batch time; `undefined` while it has emitted nothing. */
  readonly batchId: number | undefined;
  readonly batchTime: Time | undefined;
  /** The output batch itself, held by reference (a batch is immutable); empty while it has emitted nothing. */
  readonly records: Batch<unknown> | undefined;
}

/** Every tracked operator's last results as of one committed batch. */
export interface LastResultsView {
  /** The batch the results are as of; `undefined` before the first commit (or when unknown, after a restart). */
  readonly batchId: number | undefined;
  /** One entry per tracked operator, in graph order. */
  readonly results: readonly LastResult[];
}

/** The last results of some batch: the tracked operators' entries by node id (those that emitted). */
interface Version {
  readonly batchId: number;
  readonly results: ReadonlyMap<number, LastResult>;
  persisted: boolean;
}

/** What the runner gives {@link LastResults.capture}: the batch's memoized stream outputs, if computed. */
export interface ComputedBatches {
  readonly batchId: number;
  readonly batchTime: Time;
  computed(id: number): Promise<Batch<unknown> | undefined> | undefined;
}

/**
 * The last results of the operators that asked for them ({@link keepLastResults}: the windows),
 * versioned by committed batch so that a reader can take those of the same batch as the state it
 * reads. A commit participant of every context (the graph's second, after the watermarks): the
 * results a batch captured become the committed ones when it commits, and are dropped when it
 * does not; so it also knows the last committed batch, tracked operators or not.
 *
 * Memory: references, no copies. Each tracked operator's last output batch; with a checkpoint
 * whose `interval` is over 1, also the last persisted batch's (so at most two per operator), and
 * while a pipelined commit is in flight, that batch's too.
 */
export class LastResults implements CommitParticipant {
  readonly name = 'last results';
  readonly #tracked: { readonly node: GraphNode; readonly operator: string; readonly shape: ResultShape }[] = [];
  #committed: Version | undefined;
  #persisted: Version | undefined;
  /** Captured, not yet committed (two with a pipelined commit), oldest first. */
  #pending: Version[] = [];

  /** Whether any operator keeps its last results. */
  get tracking(): boolean {
    return this.#tracked.length > 0;
  }

  /** Starts keeping `node`'s last results, named `operator`. */
  track(node: GraphNode, shape: ResultShape, operator: string): void {
    if (this.#tracked.some((t) => t.operator === operator)) throw new TypeError(`Two operators keep their last results under the id '${operator}'; give them different names.`);
    this.#tracked.push({ node, operator, shape });
  }

  /** Takes the outputs the tracked operators gave the batch (before the runner lets the batch's records go). */
  async capture(batch: ComputedBatches): Promise<void> {
    const base = this.#pending.at(-1) ?? this.#committed;
    let results = base?.results;
    for (const { node, operator, shape } of this.#tracked) {
      const computed = batch.computed(node.id);
      const records = computed === undefined ? undefined : await computed;
      if (records === undefined || records.size === 0) continue;
      const next = results === base?.results ? new Map(results) : (results as Map<number, LastResult>);
      next.set(node.id, { operator, kind: node.kind, shape, batchId: batch.batchId, batchTime: batch.batchTime, records });
      results = next;
    }
    this.#pending.push({ batchId: batch.batchId, results: results ?? new Map(), persisted: false });
  }

  /**
   * The references a reader needs, taken at once: call it in the same synchronous step as the
   * read of the state it must agree with (a checkpoint snapshot), then pick by that state's batch.
   */
  snapshot(): { readonly committed: LastResultsView; at(batchId: number | undefined): LastResultsView } {
    const committed = this.#committed;
    const candidates = [this.#persisted, committed, ...this.#pending];
    const persisted = this.#persisted;
    return {
      committed: this.#view(committed),
      at: (batchId) => {
        if (batchId === undefined) return this.#view(persisted);
        const found = candidates.find((version) => version?.batchId === batchId);
        return found === undefined ? { batchId, results: this.#view(undefined).results } : this.#view(found);
      },
    };
  }

  prepare(commit: PendingCommit): void {
    let version = this.#pending.find((v) => v.batchId === commit.batchId);
    if (version === undefined) {
      // Nothing captured (no tracked operator): the batch keeps the results before it, and its id is known.
      version = { batchId: commit.batchId, results: (this.#pending.at(-1) ?? this.#committed)?.results ?? new Map(), persisted: false };
      this.#pending.push(version);
    }
    version.persisted = commit.persistsState;
  }

  committed(batchId: number): void {
    const i = this.#pending.findIndex((v) => v.batchId === batchId);
    if (i < 0) return;
    const version = this.#pending[i] as Version;
    this.#pending.splice(0, i + 1);
    this.#committed = version;
    if (version.persisted) this.#persisted = version;
  }

  /** Nothing computes on the last results: the next batch captures on top of the pending ones. */
  handOff(): void {
    // Intentionally empty (see CommitParticipant.handOff).
  }

  aborted(batchId: number): void {
    this.#pending = this.#pending.filter((v) => v.batchId !== batchId);
  }

  #view(version: Version | undefined): LastResultsView {
    const results = this.#tracked.map(({ node, operator, shape }): LastResult => version?.results.get(node.id) ?? { operator, kind: node.kind, shape, batchId: undefined, batchTime: undefined, records: undefined });
    return { batchId: version?.batchId, results };
  }
}

/**
 * Marks `node` as an operator whose last results `queryState` (`sluice/sql`) exposes as a table
 * named `operator` (default: the node's id): its output batch of the last committed batch in which
 * it emitted records, kept by reference after the batch commits, never copied. Windows call it
 * once, at construction; nothing is done per record.
 *
 * @throws TypeError when another operator keeps its results under the same id.
 */
export function keepLastResults(node: GraphNode & { readonly graph: DStreamGraph }, shape: ResultShape, operator: string = node.describe): void {
  node.graph.lastResults.track(node, shape, operator);
}
