import { Level } from 'level';
import { SluiceError, type WriteAheadLog, type BatchPlan, type Checkpointer, type CommitRecord, type GraphFingerprint, type Recovery } from 'sluice';
import { DEFAULT_CACHE_SIZE, decodeValue, encodeValue, LevelStateBackend } from 'sluice/state';
import { batchIdOf, batchKey, FORMAT_VERSION, sublevels, type CheckpointDb } from './checkpoint-layout.js';
import { corrupt, isCorruption } from './checkpoint-errors.js';
import { CheckpointStateBackend } from './checkpoint-state-backend.js';
import { compareFingerprints } from './fingerprint.js';
import { findLogDamage } from './find-log-damage.js';
import { LevelWriteAheadLog } from './level-write-ahead-log.js';

/** What the checkpoint's meta entry holds. */
export interface CheckpointMeta {
  readonly version: number;
  readonly zeroTime: number;
  readonly fingerprint: GraphFingerprint;
}

/** A commit log entry: the record, and whether the state was persisted with it. */
export interface CommitEntry {
  readonly record: CommitRecord;
  readonly persisted: boolean;
}

/**
 * How many state entries each stateful operator of a checkpointed context keeps in memory without
 * the `stateCacheSize` option (the LevelDB state backend's own default).
 */
export const DEFAULT_STATE_CACHE_SIZE = DEFAULT_CACHE_SIZE;

/**
 * Checks a state cache size; a RangeError naming `option` (as `where: option`) unless it is a
 * non-negative integer.
 */
export function checkStateCacheSize(size: unknown, where: string): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`${where}: stateCacheSize must be a non-negative integer (state entries each operator keeps in memory), got ${String(size)}.`);
  }
  return size;
}

/** A write to add to a batch's atomic commit (table sink rows). */
export interface CommitOperation {
  readonly type: 'put' | 'del';
  readonly sublevel: object;
  readonly key: string;
  readonly value?: Uint8Array;
}

/**
 * The checkpoint of one context in one LevelDB (ARCHITECTURE sections 4 and 7): the plan of every
 * batch is logged before it computes; its commit record, its state changes (every
 * `checkpointInterval` batches) and its table-sink rows are written in one atomic batch; recovery
 * restores the last persisted commit and replays the logged plans after it. Old log entries are
 * purged once a later state is persisted.
 */
export class LevelCheckpointer implements Checkpointer {
  readonly directory: string;
  readonly interval: number;
  readonly stateBackend = new CheckpointStateBackend();
  #db: CheckpointDb | undefined;
  #stateCacheSize = DEFAULT_STATE_CACHE_SIZE;
  #oldestKept = 0;
  readonly #sinkRows = new Map<number, CommitOperation[]>();
  readonly #wals = new Map<string, LevelWriteAheadLog>();
  /** Failures to inject, for crash tests: throw just before or just after a batch's atomic write. */
  readonly faults: { beforeCommit?: (batchId: number) => boolean; afterCommit?: (batchId: number) => boolean } = {};

  constructor(directory: string, interval: number) {
    this.directory = directory;
    this.interval = interval;
  }

  /**
   * How many state entries (decoded values, and keys known to be absent) each stateful operator
   * keeps in memory; the rest are read from the checkpoint's LevelDB when a batch needs them.
   * Default {@link DEFAULT_STATE_CACHE_SIZE}. Set it before the context starts (`getOrCreate`
   * does, from its `stateCacheSize` option).
   *
   * @throws RangeError when set to anything but a non-negative integer; Error once the checkpoint is open.
   */
  get stateCacheSize(): number {
    return this.#stateCacheSize;
  }

  set stateCacheSize(size: number) {
    const checked = checkStateCacheSize(size, 'LevelCheckpointer');
    if (this.#db !== undefined) throw new Error('LevelCheckpointer: set stateCacheSize before the context starts; the checkpoint is open.');
    this.#stateCacheSize = checked;
  }

  /** The open database. */
  get db(): CheckpointDb {
    if (this.#db === undefined) throw new Error('The checkpoint is not open.');
    return this.#db;
  }

  /** Opens (or creates) the database. */
  async open(): Promise<void> {
    // LevelDB would skip a damaged block of its log and run on without it: check first.
    const damage = await findLogDamage(this.directory);
    if (damage !== undefined) throw corrupt(this.directory, `LevelDB's log ${damage.file} is damaged at byte ${damage.offset} (${damage.reason})`);
    const db: CheckpointDb = new Level<string, Uint8Array>(this.directory, { keyEncoding: 'utf8', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (error) {
      if (isCorruption(error)) throw corrupt(this.directory, 'LevelDB cannot open it', error);
      throw new SluiceError('CHECKPOINT_CORRUPT', `The checkpoint at ${this.directory} cannot be opened: ${(error as Error).message}. Is another process using it?`, { cause: error });
    }
    this.#db = db;
    this.stateBackend.attach(LevelStateBackend.fromDatabase(db, { cacheSize: this.#stateCacheSize }));
  }

  async recover(fingerprint: GraphFingerprint, zeroTime: number): Promise<Recovery | undefined> {
    const { meta, offsets, commits } = sublevels(this.db);
    const saved = await this.#read<CheckpointMeta>(meta, 'format');
    if (saved === undefined) {
      const anything = (await offsets.keys({ limit: 1 }).all()).length + (await commits.keys({ limit: 1 }).all()).length;
      if (anything > 0) throw corrupt(this.directory, 'its meta entry is missing but it holds batches');
      await meta.put('format', encodeValue({ version: FORMAT_VERSION, zeroTime, fingerprint } satisfies CheckpointMeta));
      return undefined;
    }
    if (saved.version !== FORMAT_VERSION) {
      throw new SluiceError('CHECKPOINT_INCOMPATIBLE', `The checkpoint at ${this.directory} has layout version ${saved.version}; this Sluice reads version ${FORMAT_VERSION}. Use a new checkpoint directory.`);
    }
    const difference = compareFingerprints(saved.fingerprint, fingerprint);
    if (difference !== undefined) {
      throw new SluiceError('CHECKPOINT_INCOMPATIBLE', `The checkpoint at ${this.directory} was written by a different program: ${difference}. Run the program that wrote it, or use a new checkpoint directory.`);
    }
    let restored: CommitRecord | undefined;
    for await (const [key, bytes] of commits.iterator({ reverse: true })) {
      const entry = this.#decode<CommitEntry>(bytes, `commit ${batchIdOf(key)}`);
      if (entry.persisted) {
        restored = entry.record;
        break;
      }
    }
    const replay: BatchPlan[] = [];
    const from = restored === undefined ? 0 : restored.batchId + 1;
    for await (const [key, bytes] of offsets.iterator({ gte: batchKey(from) })) {
      const plan = this.#decode<BatchPlan>(bytes, `plan ${batchIdOf(key)}`);
      if (plan.batchId !== from + replay.length) throw corrupt(this.directory, `the offset log skips from batch ${from + replay.length - 1} to ${plan.batchId}`);
      replay.push(plan);
    }
    const first = await offsets.keys({ limit: 1 }).all();
    this.#oldestKept = first[0] === undefined ? from : batchIdOf(first[0]);
    return { zeroTime: saved.zeroTime, restored, replay };
  }

  async logPlan(plan: BatchPlan): Promise<void> {
    await sublevels(this.db).offsets.put(batchKey(plan.batchId), encodeValue(plan));
  }

  /** Adds rows to the atomic commit of batch `batchId` (for table sinks). */
  stage(batchId: number, operations: readonly CommitOperation[]): void {
    const staged = this.#sinkRows.get(batchId) ?? [];
    staged.push(...operations);
    this.#sinkRows.set(batchId, staged);
  }

  async commit(plan: BatchPlan, record: CommitRecord): Promise<void> {
    const { offsets, commits } = sublevels(this.db);
    const persisted = (plan.batchId + 1) % this.interval === 0;
    const prepared = persisted ? await this.stateBackend.inner.prepareCommit(plan.batchId) : undefined;
    // The state's operations are a new array for this commit: add to it rather than copy it.
    const operations: object[] = prepared?.operations ?? [];
    for (const row of this.#sinkRows.get(plan.batchId) ?? []) operations.push(row);
    operations.push({ type: 'put', sublevel: commits, key: batchKey(plan.batchId), value: encodeValue({ record, persisted } satisfies CommitEntry) });
    // Retention: once a state is persisted, the logs before it are never needed again.
    const purgeTo = persisted ? plan.batchId : this.#oldestKept;
    for (let id = this.#oldestKept; id < purgeTo; id++) {
      operations.push({ type: 'del', sublevel: offsets, key: batchKey(id) }, { type: 'del', sublevel: commits, key: batchKey(id) });
    }
    if (persisted) {
      for (const [source, wal] of this.#wals) {
        const upTo = record.offsets[source];
        if (typeof upTo === 'number') for (const key of wal.purgeBefore(upTo)) operations.push({ type: 'del', sublevel: wal.sublevel, key });
      }
    }
    if (this.faults.beforeCommit?.(plan.batchId) === true) throw new Error(`injected crash before the commit of batch ${plan.batchId}`);
    await this.db.batch(operations as never);
    if (this.faults.afterCommit?.(plan.batchId) === true) throw new Error(`injected crash after the commit of batch ${plan.batchId}`);
    this.#oldestKept = purgeTo;
    this.#sinkRows.delete(plan.batchId);
    prepared?.committed();
  }

  /**
   * The receiver write-ahead log of source `source`, in this checkpoint. Every source is offered
   * one; only a push source (a socket) uses it, and the commits purge only what it appended.
   */
  writeAheadLog(source: string): WriteAheadLog {
    let wal = this.#wals.get(source);
    if (wal === undefined) {
      wal = new LevelWriteAheadLog(this.db, source);
      this.#wals.set(source, wal);
    }
    return wal;
  }

  abort(batchId: number): void {
    this.#sinkRows.delete(batchId);
  }

  /** Closes the stores and the database. */
  async close(): Promise<void> {
    if (this.#db === undefined) return;
    await this.stateBackend.inner.close();
    await this.#db.close();
    this.#db = undefined;
  }

  async #read<T>(sublevel: { get(key: string): Promise<Uint8Array | undefined> }, key: string): Promise<T | undefined> {
    const bytes = await sublevel.get(key);
    return bytes === undefined ? undefined : this.#decode<T>(bytes, `the ${key} entry`);
  }

  #decode<T>(bytes: Uint8Array, what: string): T {
    try {
      return decodeValue(bytes) as T;
    } catch (error) {
      throw corrupt(this.directory, `${what} cannot be decoded`, error);
    }
  }
}
