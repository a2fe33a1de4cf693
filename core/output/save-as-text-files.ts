import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DStream } from '../dstream.js';
import { SluiceError, messageOf } from '../errors.js';
import { formatRecord } from './format-record.js';
import { OutputOperation } from './output-operation.js';

/**
 * Writes every batch to the file `prefix-<batchTimeMs>.suffix` (no `.suffix` when it is empty),
 * one record per line (see {@link formatRecord}). The file is written under a temporary name and
 * renamed, so a reader never sees half a batch, and a replayed batch rewrites the same file.
 *
 * @param prefix - path prefix; its directory is created if missing.
 * @param suffix - file extension without the dot (default none).
 * @throws SluiceError `SINK_FAILED` when the file cannot be written.
 * @example counts.pipe(saveAsTextFiles('out/counts', 'txt')) // out/counts-1700000001000.txt
 */
export function saveAsTextFiles<T>(prefix: string, suffix = ''): (stream: DStream<T>) => OutputOperation<T> {
  if (typeof prefix !== 'string' || prefix === '') throw new TypeError('saveAsTextFiles: prefix must be a non-empty path.');
  return (stream) => {
    const output: OutputOperation<T> = new OutputOperation<T>('saveAsTextFiles', stream, async (batch, { batchTime, batchId }) => {
      const path = `${prefix}-${batchTime}${suffix === '' ? '' : `.${suffix}`}`;
      let text = '';
      for (const partition of batch.partitions) for (const record of partition) text += `${formatRecord(record)}\n`;
      try {
        await mkdir(dirname(path), { recursive: true });
        const temporary = `${path}.${batchId}.tmp`;
        await writeFile(temporary, text);
        await rename(temporary, path);
      } catch (error) {
        throw new SluiceError('SINK_FAILED', `${output.describe} could not write ${path}: ${messageOf(error)}. Check that the directory is writable.`, { operator: output.describe, cause: error });
      }
    });
    return output;
  };
}
