/**
 * Every code a {@link SluiceError} can carry, with what it means. Codes are stable: they are part
 * of the public API and only ever added to.
 */
export const ERROR_CODES = {
  USER_FUNCTION_FAILED: 'A function given to an operator or an output operation threw; the batch was not committed and the context stopped.',
  BAD_RECORD: 'A source could not parse an input record and its bad-record policy is "fail".',
  SOURCE_FAILED: 'A source could not report or read its data (I/O or protocol error).',
  SINK_FAILED: 'An output operation could not write its results.',
  BATCH_FAILED: 'A batch failed for a reason no other code covers (an operator or the engine itself); the batch was not committed.',
  CHECKPOINT_INCOMPATIBLE: 'The checkpoint was written by a different program (another graph, batch interval or sources); it names the operator and the difference. Use a new checkpoint directory, or the program that wrote it.',
  CHECKPOINT_CORRUPT: "The checkpoint is truncated or damaged and cannot be trusted. Damage found at start (LevelDB's files, the marker, the entries a start reads) stops it before anything runs, naming the file; damage found later (an operator's state, naming the operator and key; lines missing from a write-ahead log a replay needs; a table row) fails that batch, uncommitted, or that read. Restore the directory from a copy or start with a new one; `sluice inspect --verify` reports the damage.",
  SOURCE_OFFSET_UNAVAILABLE: 'Recovery needs records a source can no longer give (a source that is not replayable, or data deleted since); nothing was run. Use a replayable source, or a new checkpoint directory.',
  CONTEXT_STOPPED: 'The streaming context was stopped before the operation could finish, or the operation needs a running context (reading a table sink after stop()).',
  COMMIT_FAILED: "A batch's commit could not be prepared or written (a participant failed to prepare, the checkpoint's atomic write failed, or a LevelDB state backend of its own failed to write the batch's state); nothing of the batch was committed and the context stopped. A restart on the checkpoint replays the batch.",
  POST_COMMIT_FAILED: "A batch's commit was durable, but a participant failed to complete it afterwards (releasing, acknowledging, publishing files); the batch stays committed and the context stopped. A restart resumes after the batch and completes it.",
  STATE_IO_FAILED: "A state store could not read or write an operator's state: LevelDB failed (disk, permissions, a database closed under it), or the store or its backend was closed while still in use; it names the operator. The batch was not committed and the context stopped. See the cause; check the disk, and keep a backend given as stateBackend open while the context runs.",
  STATE_CORRUPT: "Stored state outside a checkpoint cannot be decoded: a value, key or meta entry of an operator's store is damaged, or was written by an incompatible version of Sluice or with a value type not registered in this process; it names the operator (and the key). State in a checkpoint fails with CHECKPOINT_CORRUPT. Register the value type if the message names one; otherwise restore the state directory from a backup, or start with new state.",
  STATE_MIGRATION_FAILED: "A stored state value could not be migrated to the operator's state version: its migrate function threw or returned what cannot be stored; it names the operator and the key. The batch was not committed and the context stopped. Fix migrate (its cause is what it threw), or run the program with the state version that wrote the values.",
  CHECKPOINT_UNAVAILABLE: 'The checkpoint directory cannot be used: it does not exist or holds no checkpoint (inspection), is not empty and holds no Sluice checkpoint, cannot be read, or another process (a running context) holds its lock. Nothing was run on it. Check the path and permissions; give the checkpoint a directory of its own; stop the other context, or inspect a copy.',
  MONITOR_UNAVAILABLE: 'serveMonitor could not listen on the host and port given (the port is taken, or the address is not this machine\'s or not permitted), or could not write its discovery file into the checkpoint directory. The job is not affected. Choose another port (0 lets the system pick a free one) or host; check the directory\'s permissions.',
  WORKER_GRAPH_MISMATCH: "A worker thread of runJob built another graph from the job module than the driver did (or could not build it): the job module must build the same graph every time it is loaded, without side effects; it says where the graphs differ.",
  JOB_NOT_DETERMINISTIC: "A job definition (defineJob) built a different graph when it was built again: an operator, source or output with another name, kind or inputs, or one more or less; it names the first node that differs. Tools build a job more than once (the CLI, the pre-deploy check, later worker threads), so the graph must not depend on randomness, the clock or side effects of the module's top level or of its build function.",
  WORKER_FAILED: "A worker thread of the parallel executor failed and the work could not be finished elsewhere: a worker failed to start (its module threw, or refused the hello), a task's worker died (exited, was terminated, threw outside a task, or could not read a message) as many times as the pool's maxAttempts allows, or every worker died and none could be replaced. It names the stage, the task and the worker; the cause is why the worker failed.",
  SQL_FAILED: "A SQL query of sluice/sql failed: it does not parse or bind against its tables' columns (at start when the schema is declared, else at the first batch), a record's field disagrees with the table's column type (the message names the field, the table and the batch), a static table's file cannot be loaded, or DuckDB failed while running it; it names the operator. The batch was not committed and the context stopped. Fix the query, declare the schema, or fix the records.",
  PARTITION_LOST: "This instance no longer owns a partition of its group (runJob's group, sluice run --group): another instance took the partition's lease over after it expired (this one was paused, overloaded or cut off from NATS for a whole lease), or it was handed over. Nothing of the refused write was written; the partition's loop stopped on this instance, which goes on with its other partitions, and the new owner replays the partition from its last committed batch. Frequent losses mean the lease is too short for the pauses this process sees: raise leaseMillis.",
  INTERNAL_ERROR: 'Sluice broke one of its own invariants: a bug in Sluice, not in your program. The batch was not committed and the context stopped. Please report it with the message and the cause.',
} as const;

/** A stable error code; see {@link ERROR_CODES}. */
export type SluiceErrorCode = keyof typeof ERROR_CODES;

/** Where in the graph and in the stream an error happened, when that is known. */
export interface ErrorContext {
  /** The operator's description, such as `map#3` or its user-given name. */
  readonly operator?: string;
  /** The batch that failed. */
  readonly batchId?: number;
  /** The batch time of the batch that failed, in ms. */
  readonly batchTime?: number;
  /** The source involved. */
  readonly source?: string;
  /** Where an unnamed failing operator was defined in your code (`file:line:column`). */
  readonly site?: string;
}

/**
 * An operational failure: a user function that threw, a bad record, an I/O error. Programmer
 * mistakes (wrong arguments, an invalid graph) are `TypeError`/`RangeError` instead.
 */
export class SluiceError extends Error {
  /** The stable code; see {@link ERROR_CODES}. */
  readonly code: SluiceErrorCode;
  /** The operator that failed, if any. */
  readonly operator: string | undefined;
  /** The batch that failed, if any. */
  readonly batchId: number | undefined;
  /** The batch time of the batch that failed, if any. */
  readonly batchTime: number | undefined;
  /** The source involved, if any. */
  readonly source: string | undefined;
  /** Where an unnamed failing operator was defined in your code (`file:line:column`), if known. */
  readonly site: string | undefined;

  constructor(code: SluiceErrorCode, message: string, options: ErrorContext & { readonly cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SluiceError';
    this.code = code;
    this.operator = options.operator;
    this.batchId = options.batchId;
    this.batchTime = options.batchTime;
    this.source = options.source;
    this.site = options.site;
  }
}

/** The message of any thrown value, for error texts. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
