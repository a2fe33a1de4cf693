import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OutputOperation, type CommitParticipant } from 'sluice/extend';
import { SluiceError, type DStream } from 'sluice';
import { messageOf } from '../core/internal.js';
import { batchIdOf, batchKey } from './checkpoint-layout.js';

/** Options of {@link fileSink}. */
export interface FileSinkOptions<T> {
  /**
   * How a record becomes a line: `'ndjson'` (default: one JSON value per line, bigints as their
   * digits, files `*.ndjson`), or a function returning the line (files `*.txt`).
   */
  readonly format?: 'ndjson' | ((record: T) => string);
  /** Names the output in errors and logs. */
  readonly name?: string;
  /**
   * Whether a batch with no records gets a file too (an empty one). Default `false`: a job that
   * runs every 200 ms would otherwise leave 432,000 empty files a day per sink. Set it when a
   * reader needs a file per batch (to see that a batch ran).
   */
  readonly writeEmpty?: boolean;
}

/** A batch's file until its batch commits: hidden, so a reader listing `batch-*` never sees it. */
const PENDING = /^\.batch-([0-9a-f]{16})\.(ndjson|txt)\.pending$/;

/**
 * Writes every batch to its own file, `<directory>/batch-<batchId as 16 hex digits>.ndjson`
 * (`.txt` with a custom format), one record per line. The batch's output is written to a hidden
 * pending file (`.batch-<id>.ndjson.pending`), which becomes the batch's file when the batch's
 * commit is durable (a rename), so a reader sees the files of committed batches only, each whole.
 * When a crash comes between the commit and the rename, the next start on the checkpoint finishes
 * the rename; the pending files of batches that did not commit are deleted, and those batches are
 * replayed. A replayed batch writes the same name again: the directory ends up exactly as after a
 * run that never crashed (exactly-once). File names sort in batch order. A batch with no records
 * writes no file, unless `writeEmpty` is set.
 *
 * @param directory - where the files go; created if missing.
 * @throws TypeError when `directory` is not a non-empty string or `format` is not `'ndjson'` or a function.
 * @throws SluiceError `SINK_FAILED` (failing the batch) when a file cannot be written or a record
 * cannot be formatted; `POST_COMMIT_FAILED` (stopping the context after the batch committed) when
 * the pending file cannot be renamed.
 * @example counts.pipe(fileSink('out/counts')) // out/counts/batch-0000000000000000.ndjson, ...
 */
export function fileSink<T>(directory: string, options: FileSinkOptions<T> = {}): (stream: DStream<T>) => OutputOperation<T> {
  if (typeof directory !== 'string' || directory === '') throw new TypeError('fileSink: directory must be a non-empty path.');
  const format = options.format ?? 'ndjson';
  if (format !== 'ndjson' && typeof format !== 'function') throw new TypeError("fileSink: format must be 'ndjson' or a function from a record to a line.");
  const line = format === 'ndjson' ? toJsonLine : format;
  const extension = format === 'ndjson' ? 'ndjson' : 'txt';
  const writeEmpty = options.writeEmpty ?? false;
  const final = (batchId: number): string => join(directory, `batch-${batchKey(batchId)}.${extension}`);
  const pending = (batchId: number): string => join(directory, `.batch-${batchKey(batchId)}.${extension}.pending`);
  return (stream) => {
    /** The batch whose pending file is written, until its commit. */
    let written: number | undefined;
    const output: OutputOperation<T> = new OutputOperation<T>(
      'fileSink',
      stream,
      async (batch, { batchId }) => {
        if (!writeEmpty && batch.size === 0) return;
        let text = '';
        let index = 0;
        try {
          for (const partition of batch.partitions) {
            for (const record of partition) {
              text += `${line(record)}\n`;
              index++;
            }
          }
        } catch (error) {
          throw new SluiceError('SINK_FAILED', `${output.describe} could not format record ${index} of batch ${batchId}: ${messageOf(error)}.`, { operator: output.describe, batchId, cause: error });
        }
        try {
          await mkdir(directory, { recursive: true });
          await writeFile(pending(batchId), text);
        } catch (error) {
          throw new SluiceError('SINK_FAILED', `${output.describe} could not write ${pending(batchId)}: ${messageOf(error)}. Check that the directory is writable.`, { operator: output.describe, batchId, cause: error });
        }
        written = batchId;
      },
      options.name,
    );
    const participant: CommitParticipant = {
      name: output.describe,
      // Publishes the files of committed batches a crash left pending, and deletes the others.
      initialize: async (restored) => {
        let names: string[];
        try {
          names = await readdir(directory);
        } catch {
          return;
        }
        for (const name of names) {
          const match = PENDING.exec(name);
          if (match?.[2] !== extension) continue;
          const batchId = batchIdOf(match[1] as string);
          if (restored !== undefined && batchId <= restored) await rename(pending(batchId), final(batchId));
          else await rm(pending(batchId), { force: true });
        }
      },
      prepare: () => undefined,
      committed: async (batchId) => {
        if (written !== batchId) return;
        written = undefined;
        await rename(pending(batchId), final(batchId));
      },
      // Pipelined commit: only the output and the commit touch the files, and the next batch's output waits for this commit.
      handOff: () => undefined,
      aborted: () => {
        // A pending file left behind is rewritten by the replay, or deleted at the next start.
        written = undefined;
      },
    };
    stream.graph.addCommitParticipant(participant);
    return output;
  };
}

/** A record as one line of JSON: bigints as their digits, `undefined` as `null`. */
function toJsonLine(record: unknown): string {
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) ?? 'null';
}
