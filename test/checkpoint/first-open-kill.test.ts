import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { foreachBatch, ManualClock, StreamingContext } from 'sluice';
import { levelCheckpoint } from 'sluice/checkpoint';
import { crc32c } from '../../checkpoint/crc32c.js';
import { useTempDir } from './checkpoint-harness.js';

/*
 * A kill while LevelDB creates a new database leaves `CURRENT` naming its first MANIFEST, whose
 * one version edit says "log 0": no log yet. LevelDB opens that as an empty database; so must the
 * start's checks of the raw files (they refused it as `000000.log` missing, so a job killed in its
 * very first start could never start again).
 */

const dir = useTempDir();

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** One full record of LevelDB's log format holding `data`. */
function logRecord(data: Uint8Array): Buffer {
  const typed = Buffer.concat([Buffer.from([1]), data]);
  const crc = crc32c(typed, 0, typed.length);
  const masked = (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
  const header = Buffer.alloc(6);
  header.writeUInt32LE(masked, 0);
  header.writeUInt16LE(data.length, 4);
  return Buffer.concat([header, typed]);
}

/**
 * What LevelDB's NewDB writes: MANIFEST-000001 (comparator, log 0, next file 2, last sequence 0),
 * then CURRENT through a temporary file (`000001.dbtmp`, renamed); `current: false` is a kill before the rename.
 */
async function newDbLeftByAKill(path: string, current = true): Promise<void> {
  await mkdir(path, { recursive: true });
  const comparator = Buffer.from('leveldb.BytewiseComparator', 'latin1');
  const edit = Buffer.from([...varint(1), ...varint(comparator.length), ...comparator, ...varint(2), ...varint(0), ...varint(3), ...varint(2), ...varint(4), ...varint(0)]);
  await writeFile(join(path, 'MANIFEST-000001'), logRecord(edit));
  await writeFile(join(path, current ? 'CURRENT' : '000001.dbtmp'), 'MANIFEST-000001\n');
}

describe('a checkpoint directory left by a kill during LevelDB’s first open', () => {
  it.each([
    ['after CURRENT named the first MANIFEST', true],
    ['before CURRENT was written', false],
  ])('starts as a new checkpoint, as LevelDB opens it (killed %s)', async (_when, current) => {
    const path = join(dir(), 'ckpt');
    await newDbLeftByAKill(path, current);
    const clock = new ManualClock();
    const seen: number[][] = [];
    const ctx = new StreamingContext({ batchInterval: 1000, clock, checkpoint: levelCheckpoint(path) });
    ctx.queueStream([[1, 2]]).pipe(foreachBatch((batch) => void seen.push([...batch])));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(seen).toEqual([[1, 2]]);
    expect(await readdir(path)).toContain('sluice-checkpoint.json');
  });
});
