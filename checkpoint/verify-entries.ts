import { decodeValue } from 'sluice/extend';
import type { CheckpointDb } from './checkpoint-layout.js';
import { corrupt, rootCause } from './checkpoint-errors.js';
import { printableKey } from './leveldb-format.js';

const READ_BATCH = 1000;

/** How the values under each sublevel prefix are written: the value codec, JSON, or plain text (the write-ahead logs). */
const DECODERS: readonly [prefix: string, decode: (bytes: Uint8Array) => unknown][] = [
  ['!state-meta!', (bytes): unknown => JSON.parse(Buffer.from(bytes).toString('utf8'))],
  ['!wal!', () => undefined],
  ['!', decodeValue],
];

/**
 * Reads every entry of a checkpoint's database through LevelDB, and decodes every value as the
 * checkpoint wrote it (`sluice inspect --verify`).
 *
 * @returns how many entries it read.
 * @throws SluiceError `CHECKPOINT_CORRUPT` naming the first entry LevelDB cannot read (by the key
 * before it) or whose value cannot be decoded (by its key).
 */
export async function verifyEntries(db: CheckpointDb, directory: string): Promise<number> {
  const iterator = db.iterator<Buffer, Uint8Array>({ keyEncoding: 'buffer', valueEncoding: 'view' });
  let entries = 0;
  let last: string | undefined;
  try {
    for (;;) {
      let batch: [Buffer, Uint8Array][];
      try {
        batch = await iterator.nextv(READ_BATCH);
      } catch (error) {
        throw corrupt(directory, `LevelDB cannot read the entries ${last === undefined ? 'from the first key' : `after key "${last}"`}`, rootCause(error));
      }
      if (batch.length === 0) return entries;
      for (const [key, value] of batch) {
        const name = key.toString('latin1');
        const decode = DECODERS.find(([prefix]) => name.startsWith(prefix))?.[1];
        last = printableKey(key);
        if (decode === undefined) throw corrupt(directory, `it holds key "${last}", which Sluice does not write`);
        try {
          decode(value);
        } catch (error) {
          throw corrupt(directory, `the value of key "${last}" cannot be decoded`, error);
        }
        entries++;
      }
    }
  } finally {
    await iterator.close();
  }
}
