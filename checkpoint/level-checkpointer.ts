import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { Level } from 'level';
import { SluiceError } from 'sluice';
import { decodeValue, encodeValue, type BatchPlan, type Checkpointer, type CommitRecord, type GraphFingerprint, type PendingCommit, type Recovery, type WriteAheadLog } from 'sluice/extend';
import { dropStoreOperations, inCheckpoint } from '../state/internal.js';
import { batchIdOf, batchKey, FORMAT_VERSION, sublevels, type CheckpointDb } from './checkpoint-layout.js';
import { checkCheckpointFiles } from './check-checkpoint-files.js';
import { corrupt, openFailed, unavailable } from './checkpoint-errors.js';
import { writeMarker, type CheckpointMarker } from './checkpoint-marker.js';
import { checkOpenedCheckpoint, readCheckpointId } from './check-opened-checkpoint.js';
import { CheckpointStateBackend } from './checkpoint-state-backend.js';
import { compatibility, describeChanges } from './fingerprint.js';
import { LevelWriteAheadLog } from './level-write-ahead-log.js';

/** The checkpoint directories open in this process (LevelDB's lock would tell only after its open has written). */
const DIRECTORIES_IN_USE = new Set<string>();

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

/** A write to add to a batch's atomic commit (table sink rows). */
export interface CommitOperation {
  readonly type: 'put' | 'del';
  readonly sublevel: object;
  readonly key: string;
  readonly value?: Uint8Array;
}

/**
 * The checkpoint of one context in one LevelDB (docs/architecture.md): the plan of
 * every batch is logged before it computes; its commit record, its participants' operations
 * (state changes every `interval` batches, table-sink rows, write-ahead-log purges) and the purge
 * of log entries a persisted state makes unnecessary are written in one atomic batch; recovery
 * restores the last persisted commit and replays the logged plans after it.
 */
export class LevelCheckpointer implements Checkpointer {
  readonly name = 'the LevelDB checkpoint';
  /** The checkpoint directory. */
  readonly directory: string;
  /** State is persisted every this many batches. */
  readonly interval: number;
  /** How many state entries each stateful operator keeps in memory (see `levelCheckpoint`). */
  readonly stateCacheSize: number | undefined;
  readonly stateCacheBytes: number | undefined;
  readonly stateBackend = new CheckpointStateBackend();
  #db: CheckpointDb | undefined;
  #oldestKept = 0;
  /** The oldest log entry kept once the batch being committed has committed. */
  #pendingOldest: { readonly batchId: number; readonly oldest: number } | undefined;
  readonly #wals = new Map<string, LevelWriteAheadLog>();
  /** The checkpoint's id (meta entry `id`, and the marker's). */
  #id = '';
  /** Whether the id still has to be written with the next commit (a new checkpoint, or one written before ids). */
  #idPending = false;
  /** Whether the directory has its marker. */
  #marked = false;
  /**
   * A new checkpoint that has logged no plan yet: its log starts at its first plan, which is not
   * batch 0 when a partition of a group restored from its changelog resumes on it.
   */
  #fresh = false;

  /** The stateful operators whose state an upgraded program may drop (see `levelCheckpoint`). */
  readonly dropState: readonly string[];
  /**
   * What the first commit of an upgraded program writes besides its own: the new meta entry (the
   * program's fingerprint) and the deletion of the state it dropped. Until that commit a restart
   * decides the same again.
   */
  #upgrade: object[] | undefined;

  constructor(directory: string, options: { readonly interval: number; readonly stateCacheSize: number | undefined; readonly stateCacheBytes?: number | undefined; readonly dropState?: readonly string[] }) {
    this.directory = directory;
    this.interval = options.interval;
    this.stateCacheSize = options.stateCacheSize;
    this.stateCacheBytes = options.stateCacheBytes;
    this.dropState = options.dropState ?? [];
  }

  get location(): string {
    return this.directory;
  }

  /** The open database. */
  get db(): CheckpointDb {
    if (this.#db === undefined) throw new TypeError(`The checkpoint at ${this.directory} is not open: it is open while its streaming context runs, from start() to stop().`);
    return this.#db;
  }

  /**
   * Opens (or creates) the database, after checking the directory's files (without writing to
   * them: a refused start leaves them as they were) and, once open, that the database is the
   * checkpoint its marker says.
   *
   * @throws SluiceError `CHECKPOINT_CORRUPT` when the database or its files are damaged or missing,
   * `CHECKPOINT_UNAVAILABLE` when the directory cannot be read or opened (permissions, another
   * process or context holding it) or is not a Sluice checkpoint, `CHECKPOINT_INCOMPATIBLE` for a
   * marker of a later version.
   */
  async open(): Promise<void> {
    const path = resolve(this.directory);
    if (DIRECTORIES_IN_USE.has(path)) throw unavailable(this.directory, "is in use by another context of this process. Stop it first, or give this context another directory.");
    const files = await checkCheckpointFiles(this.directory);
    const db: CheckpointDb = new Level<string, Uint8Array>(this.directory, { keyEncoding: 'utf8', valueEncoding: 'view' });
    try {
      await db.open();
    } catch (error) {
      throw openFailed(this.directory, error);
    }
    DIRECTORIES_IN_USE.add(path);
    try {
      await checkOpenedCheckpoint(db, this.directory, files.marker);
      await this.#readId(db, files.marker);
    } catch (error) {
      DIRECTORIES_IN_USE.delete(path);
      await db.close();
      throw error;
    }
    this.#db = db;
    this.stateBackend.attach(inCheckpoint(db, { ...(this.stateCacheSize === undefined ? {} : { cacheSize: this.stateCacheSize }), ...(this.stateCacheBytes === undefined ? {} : { cacheBytes: this.stateCacheBytes }) }, this.directory));
  }

  async #readId(db: CheckpointDb, marker: CheckpointMarker | undefined): Promise<void> {
    const id = await readCheckpointId(db, this.directory);
    this.#marked = marker !== undefined;
    this.#idPending = id === undefined;
    this.#id = id ?? randomUUID();
  }

  async recover(fingerprint: GraphFingerprint, zeroTime: number): Promise<Recovery | undefined> {
    const { meta, offsets, commits } = sublevels(this.db);
    const saved = await this.#read<CheckpointMeta>(meta, 'format');
    if (saved === undefined) {
      const anything = (await offsets.keys({ limit: 1 }).all()).length + (await commits.keys({ limit: 1 }).all()).length;
      if (anything > 0) throw corrupt(this.directory, 'its meta entry is missing but it holds batches');
      await meta.put('format', encodeValue({ version: FORMAT_VERSION, zeroTime, fingerprint } satisfies CheckpointMeta));
      this.#fresh = true;
      return undefined;
    }
    if (saved.version !== FORMAT_VERSION) {
      throw new SluiceError('CHECKPOINT_INCOMPATIBLE', `The checkpoint at ${this.directory} has layout version ${saved.version}; this Sluice reads version ${FORMAT_VERSION}. Use a new checkpoint directory.`);
    }
    const changes = await this.#upgradeTo(saved, fingerprint);
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
    return { zeroTime: saved.zeroTime, restored, replay, changes };
  }

  /**
   * Checks that the program may resume the checkpoint (`compatibility`), and prepares what its
   * first commit writes when it changes the checkpoint (an upgrade).
   *
   * @returns the changes, in words for the log.
   * @throws SluiceError `CHECKPOINT_INCOMPATIBLE` naming the operator and the field.
   */
  async #upgradeTo(saved: CheckpointMeta, fingerprint: GraphFingerprint): Promise<string[]> {
    const c = compatibility(saved.fingerprint, fingerprint, this.dropState);
    if (c.refused !== undefined) {
      throw new SluiceError('CHECKPOINT_INCOMPATIBLE', `The checkpoint at ${this.directory} cannot be resumed by this program: ${c.refused}. See what a program may change in docs/exactly-once.md ("Upgrading a job"), or use a new checkpoint directory.`);
    }
    if (JSON.stringify(saved.fingerprint) === JSON.stringify(fingerprint)) return [];
    const operations: object[] = [{ type: 'put', sublevel: sublevels(this.db).meta, key: 'format', value: encodeValue({ ...saved, fingerprint } satisfies CheckpointMeta) }];
    for (const id of c.dropped) operations.push(...(await dropStoreOperations(this.db, id)));
    this.#upgrade = operations;
    return describeChanges(c);
  }

  /** The checkpoint's id, once open (see `Checkpointer.id`). */
  get id(): string | undefined {
    return this.#db === undefined ? undefined : this.#id;
  }

  /**
   * Logs the plan; a new checkpoint's first plan also makes its id durable, before any output of
   * the batch runs: a sink that keys its idempotence records by the id must see the same id after
   * a crash before the first commit.
   */
  async logPlan(plan: BatchPlan): Promise<void> {
    const { offsets, meta } = sublevels(this.db);
    if (this.#fresh) {
      this.#oldestKept = plan.batchId;
      this.#fresh = false;
    }
    if (this.#idPending) {
      await this.db.batch([
        { type: 'put', sublevel: offsets, key: batchKey(plan.batchId), value: encodeValue(plan) },
        { type: 'put', sublevel: meta, key: 'id', value: encodeValue(this.#id) },
      ] as never);
      this.#idPending = false;
      return;
    }
    await offsets.put(batchKey(plan.batchId), encodeValue(plan));
  }

  persistsState(batchId: number): boolean {
    return (batchId + 1) % this.interval === 0;
  }

  /** The write-ahead logs' purges. */
  prepare(commit: PendingCommit): void {
    for (const wal of this.#wals.values()) wal.prepare(commit);
  }

  async write(plan: BatchPlan, record: CommitRecord, operations: object[]): Promise<void> {
    const { offsets, commits } = sublevels(this.db);
    const persisted = this.persistsState(plan.batchId);
    // The participants' operations are a new array for this commit: add to it rather than copy it.
    if (this.#upgrade !== undefined) operations.push(...this.#upgrade);
    operations.push({ type: 'put', sublevel: commits, key: batchKey(plan.batchId), value: encodeValue({ record, persisted } satisfies CommitEntry) });
    if (this.#idPending) operations.push({ type: 'put', sublevel: sublevels(this.db).meta, key: 'id', value: encodeValue(this.#id) });
    // Retention: once a state is persisted, the logs before it are never needed again.
    const purgeTo = persisted ? plan.batchId : this.#oldestKept;
    for (let id = this.#oldestKept; id < purgeTo; id++) {
      operations.push({ type: 'del', sublevel: offsets, key: batchKey(id) }, { type: 'del', sublevel: commits, key: batchKey(id) });
    }
    await this.db.batch(operations as never);
    this.#idPending = false;
    this.#pendingOldest = { batchId: plan.batchId, oldest: purgeTo };
  }

  /** Moves the log retention on, and writes the directory's marker after its first durable commit. */
  async committed(batchId: number): Promise<void> {
    this.#upgrade = undefined;
    if (this.#pendingOldest?.batchId === batchId) this.#oldestKept = this.#pendingOldest.oldest;
    this.#pendingOldest = undefined;
    for (const wal of this.#wals.values()) wal.committed(batchId);
    if (!this.#marked) {
      await writeMarker(this.directory, this.#id);
      this.#marked = true;
    }
  }

  /**
   * Pipelined commit: nothing of the checkpoint's own is read by the next batch (its plan is logged
   * apart; the retention and the write-ahead logs move on at `committed`, before its commit).
   */
  handOff(): void {
    // Nothing to hand off.
  }

  aborted(): void {
    this.#pendingOldest = undefined;
    for (const wal of this.#wals.values()) wal.aborted();
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

  /** Closes the stores and the database. */
  async close(): Promise<void> {
    if (this.#db === undefined) return;
    await this.stateBackend.close();
    await this.#db.close();
    this.#db = undefined;
    DIRECTORIES_IN_USE.delete(resolve(this.directory));
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
