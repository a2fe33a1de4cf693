import { checkStateValue, decodeKey, decodeValue, encodeKey, encodeValue, OutputOperation, serviceKey, userFunctionFailed, type CommitParticipant, type DStreamGraph } from 'sluice/extend';
import { SluiceError, type DStream, type Key, type StreamingContext } from 'sluice';
import { messageOf } from '../core/internal.js';
import { batchKey, sublevels, type CheckpointDb } from './checkpoint-layout.js';
import { levelCheckpointerOf } from './checkpoint-access.js';
import { corruptInUse, isCorruption, rootCause, unavailable } from './checkpoint-errors.js';
import type { CommitOperation, LevelCheckpointer } from './level-checkpointer.js';

/*
 * A table's rows live in sublevel `sinks` → `<name>` of the checkpoint database: keyed tables
 * under the encoded key (encodeKey's binary string, stored as UTF-8, which keeps its order),
 * appended tables under `<batch id: 16 hex digits><index in the batch: 8 hex digits>`. Values
 * are the state value codec's bytes.
 */

/** Options of {@link tableSink}. */
export interface TableSinkOptions<T> {
  /**
   * Makes the table keyed: each record is an upsert of the row `key(record)` (the last record of
   * a batch with a key wins). Without it, every record is appended as a new row.
   */
  readonly key?: (record: T) => Key;
}

/** Reads a table sink's committed rows while its context runs (see {@link tableReader}). */
export interface TableReader<T> {
  /** The row under `key` (for an appended table, its `<batch id><index>` key), if committed. */
  get(key: Key): Promise<T | undefined>;
  /** Every committed row, in key order: the decoded key of a keyed table, the row key of an appended one. */
  entries(): AsyncIterable<readonly [Key | string, T]>;
}

interface TableDefinition {
  readonly keyed: boolean;
  readonly checkpointer: LevelCheckpointer;
}

/** The table sinks of a context, by name. */
const TABLES = serviceKey<Map<string, TableDefinition>>('table sinks');

/**
 * An output that writes every batch's records as rows of a table in the checkpoint database, in
 * the same atomic commit as the batch's state and commit record: the rows of a batch become
 * visible exactly when the batch commits, and a batch replayed after a crash writes the same rows
 * under the same keys, so the table holds every batch's rows exactly once. Read it with
 * {@link tableReader}.
 *
 * @param name - the table's name: printable ASCII without spaces, `!` or `"`; unique in the context.
 * @throws TypeError when the stream's context has no checkpoint (create it with
 * `{ checkpoint: directory }`), the name is not valid or already used, or `key` is not a function.
 * @throws SluiceError `USER_FUNCTION_FAILED` when `key` throws, `SINK_FAILED` when a record (or its
 * key) cannot be stored (failing the batch).
 * @example
 * counts.pipe(tableSink('counts', { key: ([word]) => word }));
 * const table = tableReader<Pair<string, number>>(ctx, 'counts');
 * await table.get('spark'); // ['spark', 42], as of the last committed batch
 */
export function tableSink<T>(name: string, options: TableSinkOptions<T> = {}): (stream: DStream<T>) => OutputOperation<T> {
  if (typeof name !== 'string' || !/^[#-~]+$/.test(name)) {
    throw new TypeError(`tableSink: the name must be printable ASCII without spaces, '!' or '"', got ${JSON.stringify(name)}.`);
  }
  const key = options.key;
  if (key !== undefined && typeof key !== 'function') throw new TypeError('tableSink: key must be a function from a record to its key.');
  return (stream) => {
    const checkpointer = levelCheckpointerOf(stream.graph);
    if (checkpointer === undefined) {
      throw new TypeError(`tableSink '${name}': its rows are committed with the checkpoint, and this context has none; create it with { checkpoint: levelCheckpoint(directory) }.`);
    }
    const tables = tablesOf(stream.graph);
    if (tables.has(name)) throw new TypeError(`tableSink: a table named '${name}' is already defined in this context; give each table a unique name.`);
    tables.set(name, { keyed: key !== undefined, checkpointer });
    // The rows a batch wrote, until its commit writes them in its atomic write.
    let staged: { readonly batchId: number; readonly rows: CommitOperation[] } | undefined;
    const participant: CommitParticipant = {
      name: `tableSink '${name}'`,
      prepare: (commit) => {
        if (staged?.batchId === commit.batchId) commit.write(staged.rows);
      },
      committed: () => {
        staged = undefined;
      },
      // Pipelined commit: only the output and the commit touch the rows, and the next batch's output waits for this commit.
      handOff: () => undefined,
      aborted: () => {
        staged = undefined;
      },
    };
    stream.graph.addCommitParticipant(participant);
    const output: OutputOperation<T> = new OutputOperation<T>('tableSink', stream, async (batch, { batchId }) => {
      const db = checkpointer.db;
      // A replay of a batch that did commit (with checkpointInterval > 1): its rows are already
      // there, and writing them again would briefly undo the later batches' upserts.
      if ((await sublevels(db).commits.get(batchKey(batchId))) !== undefined) return;
      const rows = rowsOf(db, name);
      const operations: CommitOperation[] = [];
      let index = 0;
      for (const partition of batch.partitions) {
        for (const record of partition) {
          const rowKey = key === undefined ? batchKey(batchId) + index.toString(16).padStart(8, '0') : encodeRowKey(key, record, index, output.describe);
          operations.push({ type: 'put', sublevel: rows, key: rowKey, value: encodeRow(record, index, output.describe) });
          index++;
        }
      }
      staged = { batchId, rows: operations };
    }, `tableSink '${name}'`);
    return output;
  };
}

/**
 * Reads the committed rows of the table sink `name` of a running context, for the service that
 * embeds it: a row appears once its batch commits, never before (a LevelDB snapshot per call, so
 * `entries()` sees one commit).
 *
 * @throws TypeError when the context has no table sink named `name`, and from `get`/`entries`
 * before the context has started.
 * @throws SluiceError from `get`/`entries`: `CONTEXT_STOPPED` once the context has stopped (its
 * database is closed), `CHECKPOINT_CORRUPT` when a row cannot be decoded or LevelDB finds the
 * table damaged, `CHECKPOINT_UNAVAILABLE` when LevelDB cannot read it.
 * @example const table = tableReader<Pair<string, number>>(ctx, 'counts'); await table.get('spark');
 */
export function tableReader<T>(ctx: StreamingContext, name: string): TableReader<T> {
  const table = ctx.graph.services.lookup(TABLES)?.get(name);
  if (table === undefined) throw new TypeError(`tableReader: this context has no table sink named '${name}'; define it with stream.pipe(tableSink('${name}')).`);
  const { keyed, checkpointer } = table;
  const directory = checkpointer.directory;
  const stopped = (): SluiceError =>
    new SluiceError('CONTEXT_STOPPED', `tableReader '${name}': the context has stopped; the table can be read only while the context runs (its checkpoint database is open from start() to stop()).`);
  const open = (): CheckpointDb => {
    if (ctx.state === 'stopped') throw stopped();
    if (ctx.state !== 'active') throw new TypeError(`tableReader '${name}': the table can be read only while the context runs (its checkpoint database is open from start() to stop()); start the context first.`);
    return checkpointer.db;
  };
  /** What a failed LevelDB read of the table means. */
  const readFailure = (error: unknown): SluiceError => {
    if (error instanceof SluiceError) return error;
    if (ctx.state === 'stopped') return stopped();
    if (isCorruption(error)) return corruptInUse(directory, `table '${name}' cannot be read`, rootCause(error));
    return unavailable(directory, `cannot be read (table '${name}'): ${messageOf(rootCause(error))}.`, error);
  };
  const decode = (bytes: Uint8Array, rowKey: string): T => {
    try {
      return decodeValue(bytes) as T;
    } catch (error) {
      throw corruptInUse(directory, `row ${JSON.stringify(rowKey)} of table '${name}' cannot be decoded`, error);
    }
  };
  const decodeRowKey = (rowKey: string): Key | string => {
    if (!keyed) return rowKey;
    try {
      return decodeKey(rowKey);
    } catch (error) {
      throw corruptInUse(directory, `the key of row ${JSON.stringify(rowKey)} of table '${name}' cannot be decoded`, error);
    }
  };
  return {
    async get(key: Key): Promise<T | undefined> {
      const rowKey = keyed ? encodeKey(key) : String(key);
      const rows = rowsOf(open(), name);
      let bytes: Uint8Array | undefined;
      try {
        bytes = await rows.get(rowKey);
      } catch (error) {
        throw readFailure(error);
      }
      return bytes === undefined ? undefined : decode(bytes, rowKey);
    },
    async *entries(): AsyncIterable<readonly [Key | string, T]> {
      const rows = rowsOf(open(), name);
      try {
        for await (const [rowKey, bytes] of rows.iterator()) yield [decodeRowKey(rowKey), decode(bytes, rowKey)];
      } catch (error) {
        throw readFailure(error);
      }
    },
  };
}

function tablesOf(graph: DStreamGraph): Map<string, TableDefinition> {
  let tables = graph.services.lookup(TABLES);
  if (tables === undefined) {
    tables = new Map();
    graph.services.provide(TABLES, tables);
  }
  return tables;
}

function rowsOf(db: CheckpointDb, name: string) {
  return sublevels(db).sinks.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' });
}

function encodeRowKey<T>(key: (record: T) => Key, record: T, index: number, describe: string): string {
  let k: Key;
  try {
    k = key(record);
  } catch (error) {
    throw userFunctionFailed(describe, error);
  }
  try {
    return encodeKey(k);
  } catch (error) {
    throw new SluiceError('SINK_FAILED', `${describe} cannot store record ${index} of the batch: its key cannot be stored: ${messageOf(error)}`, { operator: describe, cause: error });
  }
}

function encodeRow(record: unknown, index: number, describe: string): Uint8Array {
  try {
    return encodeValue(record);
  } catch (error) {
    let reason = messageOf(error);
    try {
      // Only to name the bad part in the message: encodeValue already checked the record.
      checkStateValue(record, 'record');
    } catch (named) {
      reason = messageOf(named);
    }
    throw new SluiceError('SINK_FAILED', `${describe} cannot store record ${index} of the batch: ${reason}`, { operator: describe, cause: error });
  }
}
