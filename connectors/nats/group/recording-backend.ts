import type { Key } from 'sluice';
import type { CheckpointIdentity, KeyRange, PendingCommit, StateBackend, StateStore, StoreKey, StoreStats } from 'sluice/extend';
import type { StateChange } from './changelog-stream.js';

/*
 * A state backend that records what its stores stage, so that a partition's commit can append
 * its state changes to the changelog, and that stages a restored partition's state in stores
 * opened on a fresh checkpoint (it commits with the first batch). Everything else is the inner
 * backend's: it stays the commit participant that writes the stores into the checkpoint.
 */

/** A removal, in the staged changes. */
const REMOVED: unique symbol = Symbol('removed');

/** The changes staged since the last commit, by operator, then by store key (the last one wins). */
type Staged = Map<string, Map<StoreKey, unknown>>;

/** Wraps the stores of `inner`, recording their staged writes. */
export class RecordingBackend implements StateBackend {
  readonly inner: StateBackend;
  readonly #staged: Staged = new Map();
  /** Restored rows by operator, staged again after an abort until a commit has made them durable. */
  #seeds = new Map<string, readonly (readonly [StoreKey, unknown])[]>();
  /** The inner stores opened, by operator (a context opens them before it recovers). */
  readonly #opened = new Map<string, StateStore>();

  constructor(inner: StateBackend) {
    this.inner = inner;
  }

  get kind(): string {
    return this.inner.kind;
  }

  get name(): string {
    return this.inner.name;
  }

  /**
   * Stages rows in each operator's store, now or when it opens (a partition restored from the
   * changelog): they commit with the next batch. The rows are the changelog's already: not recorded.
   */
  seed(rows: ReadonlyMap<string, readonly (readonly [StoreKey, unknown])[]>): void {
    this.#seeds = new Map(rows);
    for (const [operator, store] of this.#opened) this.#applySeed(operator, store);
  }

  /** Stages the operator's restored rows, if any are not committed yet (a first batch that failed dropped them with its own). */
  #applySeed(operator: string, store: StateStore): void {
    const seed = this.#seeds.get(operator);
    if (seed !== undefined) for (const [key, value] of seed) store.put(key, value);
  }

  async open(operatorId: string): Promise<StateStore> {
    const store = await this.inner.open(operatorId);
    let changes = this.#staged.get(operatorId);
    if (changes === undefined) this.#staged.set(operatorId, (changes = new Map<StoreKey, unknown>()));
    this.#opened.set(operatorId, store);
    this.#applySeed(operatorId, store);
    return new RecordingStore(store, changes, () => {
      this.#applySeed(operatorId, store);
    });
  }

  /** The changes staged since the last call, as changelog entries `[operator, store key]`; forgets them. */
  takeChanges(): StateChange[] {
    const out: StateChange[] = [];
    for (const [operator, changes] of this.#staged) {
      for (const [key, value] of changes) out.push(value === REMOVED ? { key: [operator, key] as Key, removed: true } : { key: [operator, key] as Key, value });
      changes.clear();
    }
    return out;
  }

  /** Forgets the staged changes (the batch was aborted: the stores dropped them). */
  dropChanges(): void {
    for (const changes of this.#staged.values()) changes.clear();
  }

  initialize(restored: number | undefined, checkpoint: CheckpointIdentity | undefined): Promise<void> | void {
    return this.inner.initialize?.(restored, checkpoint);
  }

  prepare(commit: PendingCommit): Promise<void> | void {
    return this.inner.prepare(commit);
  }

  committed(batchId: number): Promise<void> | void {
    // The restored rows committed with this batch.
    this.#seeds.clear();
    return this.inner.committed(batchId);
  }

  handOff(batchId: number): void {
    this.inner.handOff?.(batchId);
  }

  aborted(batchId: number): void {
    this.dropChanges();
    this.inner.aborted(batchId);
    for (const [operator, store] of this.#opened) this.#applySeed(operator, store);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A store that records its staged writes in `changes`, the rest forwarded; `afterAbort` stages the restored rows again. */
class RecordingStore implements StateStore {
  readonly #inner: StateStore;
  readonly #changes: Map<StoreKey, unknown>;
  readonly #afterAbort: () => void;

  constructor(inner: StateStore, changes: Map<StoreKey, unknown>, afterAbort: () => void) {
    this.#inner = inner;
    this.#changes = changes;
    this.#afterAbort = afterAbort;
  }

  get version(): number {
    return this.#inner.version;
  }

  get inMemory(): boolean {
    return this.#inner.inMemory === true;
  }

  load(keys: Iterable<StoreKey>): Promise<void> {
    return this.#inner.load(keys);
  }

  get(key: StoreKey): unknown {
    return this.#inner.get(key);
  }

  has(key: StoreKey): boolean {
    return this.#inner.has(key);
  }

  put(key: StoreKey, value: unknown): void {
    this.#inner.put(key, value);
    this.#changes.set(key, value);
  }

  delete(key: StoreKey): void {
    this.#inner.delete(key);
    this.#changes.set(key, REMOVED);
  }

  scan(range?: KeyRange): AsyncIterable<readonly [StoreKey, unknown]> {
    return this.#inner.scan(range);
  }

  getCommitted(key: StoreKey): Promise<unknown> {
    return this.#inner.getCommitted(key);
  }

  scanCommitted(range?: KeyRange): AsyncIterable<readonly [StoreKey, unknown]> {
    return this.#inner.scanCommitted(range);
  }

  commit(): Promise<number> {
    return this.#inner.commit();
  }

  abort(): void {
    this.#inner.abort();
    this.#changes.clear();
    this.#afterAbort();
  }

  stats(): StoreStats {
    return this.#inner.stats();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }
}
