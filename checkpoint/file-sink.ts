import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OutputOperation, SluiceError, messageOf, type DStream } from 'sluice';
import { batchKey } from './checkpoint-layout.js';

/** Options of {@link fileSink}. */
export interface FileSinkOptions<T> {
  /**
   * How a record becomes a line: `'ndjson'` (default: one JSON value per line, bigints as their
   * digits, files `*.ndjson`), or a function returning the line (files `*.txt`).
   */
  readonly format?: 'ndjson' | ((record: T) => string);
  /** Names the output in errors and logs. */
  readonly name?: string;
}

/**
 * Writes every batch to its own file, `<directory>/batch-<batchId as 16 hex digits>.ndjson`
 * (`.txt` with a custom format), one record per line. The file is written under a temporary name
 * and renamed, so a reader never sees half a batch; a batch replayed after a crash writes the same
 * name again, so for a deterministic job the directory ends up exactly as after a run that never
 * crashed (exactly-once by idempotent overwrite). File names sort in batch order.
 *
 * @param directory - where the files go; created if missing.
 * @throws TypeError when `directory` is not a non-empty string or `format` is not `'ndjson'` or a function.
 * @throws SluiceError `SINK_FAILED` (failing the batch) when a file cannot be written or a record
 * cannot be formatted.
 * @example counts.pipe(fileSink('out/counts')) // out/counts/batch-0000000000000000.ndjson, ...
 */
export function fileSink<T>(directory: string, options: FileSinkOptions<T> = {}): (stream: DStream<T>) => OutputOperation<T> {
  if (typeof directory !== 'string' || directory === '') throw new TypeError('fileSink: directory must be a non-empty path.');
  const format = options.format ?? 'ndjson';
  if (format !== 'ndjson' && typeof format !== 'function') throw new TypeError("fileSink: format must be 'ndjson' or a function from a record to a line.");
  const line = format === 'ndjson' ? toJsonLine : format;
  const extension = format === 'ndjson' ? 'ndjson' : 'txt';
  return (stream) => {
    const output: OutputOperation<T> = new OutputOperation<T>(
      'fileSink',
      stream,
      async (batch, { batchId }) => {
        const path = join(directory, `batch-${batchKey(batchId)}.${extension}`);
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
          const temporary = `${path}.tmp`;
          await writeFile(temporary, text);
          await rename(temporary, path);
        } catch (error) {
          throw new SluiceError('SINK_FAILED', `${output.describe} could not write ${path}: ${messageOf(error)}. Check that the directory is writable.`, { operator: output.describe, batchId, cause: error });
        }
      },
      options.name,
    );
    return output;
  };
}

/** A record as one line of JSON: bigints as their digits, `undefined` as `null`. */
function toJsonLine(record: unknown): string {
  return JSON.stringify(record, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value)) ?? 'null';
}
