import { open, readFile } from 'node:fs/promises';
import { crc32c, readUint32, unmask } from './crc32c.js';
import { ByteReader, printableKey } from './leveldb-format.js';
import { uncompressSnappy } from './snappy.js';

/*
 * A LevelDB table file (`NNNNNN.ldb`): data blocks, a filter block, a meta-index block, an index
 * block (one entry per data block: a key at or after the block's last key, and the block's
 * offset and size), and a 48-byte footer (the meta-index and index block handles, padding, a
 * magic number). Each block is followed by a type byte (0 raw, 1 Snappy) and the masked CRC-32C
 * of the block and the type. classic-level gives no way to have LevelDB verify these checksums
 * when it reads, so a damaged block can read as wrong keys or values, or abort the process in a
 * compaction: they are verified here, on the raw file.
 */

const FOOTER = 48;
const TRAILER = 5;
const MAGIC = [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb];

/** Where a table file is damaged. */
export interface TableDamage {
  /** The byte offset of the damaged block (or footer). */
  readonly offset: number;
  readonly reason: string;
  /** The keys the damaged data block holds, as its index entry bounds them. */
  readonly keys?: string;
}

interface BlockHandle {
  readonly offset: number;
  readonly size: number;
}

type Read = (offset: number, length: number) => Promise<Uint8Array>;

/**
 * Checks table file `path`, of `size` bytes (the size the MANIFEST records; the caller checks the
 * file has it): its footer and the checksums of its index and meta-index blocks, and with `full`
 * those of every data and filter block (which reads the whole file).
 *
 * @returns the first damage, or `undefined`.
 */
export async function findTableDamage(path: string, size: number, full: boolean): Promise<TableDamage | undefined> {
  if (full) {
    const bytes = await readFile(path);
    return checkTable(size, (offset, length) => Promise.resolve(bytes.subarray(offset, offset + length)), full);
  }
  const file = await open(path, 'r');
  try {
    return await checkTable(size, async (offset, length) => {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      return buffer.subarray(0, bytesRead);
    }, full);
  } finally {
    await file.close();
  }
}

async function checkTable(size: number, read: Read, full: boolean): Promise<TableDamage | undefined> {
  if (size < FOOTER) return { offset: 0, reason: `${size} bytes are too few for a table` };
  const footer = await read(size - FOOTER, FOOTER);
  if (footer.length < FOOTER || !MAGIC.every((b, i) => footer[40 + i] === b)) return { offset: size - FOOTER, reason: 'its footer has no table magic number' };
  let metaIndex: BlockHandle;
  let index: BlockHandle;
  try {
    const reader = new ByteReader(footer, 0, 40);
    metaIndex = handleOf(reader);
    index = handleOf(reader);
  } catch {
    return { offset: size - FOOTER, reason: 'its footer cannot be parsed' };
  }
  const block = (handle: BlockHandle, what: string, keys?: string) => readBlock(read, handle, size, what, full, keys);
  const metaBlock = await block(metaIndex, 'meta-index');
  if (!(metaBlock instanceof Uint8Array)) return metaBlock;
  const indexBlock = await block(index, 'index');
  if (!(indexBlock instanceof Uint8Array)) return indexBlock;
  if (!full) return undefined;
  let handles: { readonly key: Uint8Array; readonly handle: BlockHandle }[];
  let metas: { readonly key: Uint8Array; readonly handle: BlockHandle }[];
  try {
    handles = blockEntries(indexBlock).map(([key, value]) => ({ key, handle: handleOf(new ByteReader(value)) }));
    metas = blockEntries(metaBlock).map(([key, value]) => ({ key, handle: handleOf(new ByteReader(value)) }));
  } catch (error) {
    return { offset: index.offset, reason: `its index cannot be read (${(error as Error).message})` };
  }
  let after: string | undefined;
  for (const { key, handle } of handles) {
    const upTo = printableKey(key.subarray(0, Math.max(0, key.length - 8)));
    const damage = await block(handle, 'data', after === undefined ? `keys up to "${upTo}"` : `keys after "${after}" up to "${upTo}"`);
    if (!(damage instanceof Uint8Array)) return damage;
    after = upTo;
  }
  for (const { key, handle } of metas) {
    const damage = await block(handle, `meta (${printableKey(key)})`);
    if (!(damage instanceof Uint8Array)) return damage;
  }
  return undefined;
}

function handleOf(reader: ByteReader): BlockHandle {
  return { offset: reader.varint(), size: reader.varint() };
}

/** A block's contents, uncompressed when `uncompress`; or its damage. */
async function readBlock(read: Read, handle: BlockHandle, size: number, what: string, uncompress: boolean, keys?: string): Promise<Uint8Array | TableDamage> {
  const damage = (reason: string): TableDamage => ({ offset: handle.offset, reason: `its ${what} block at byte ${handle.offset}: ${reason}`, ...(keys === undefined ? {} : { keys }) });
  if (handle.offset + handle.size + TRAILER > size - FOOTER) return damage('it lies outside the file');
  const bytes = await read(handle.offset, handle.size + TRAILER);
  if (bytes.length < handle.size + TRAILER) return damage('the file ends inside it');
  if (unmask(readUint32(bytes, handle.size + 1)) !== crc32c(bytes, 0, handle.size + 1)) return damage('checksum mismatch');
  const type = bytes[handle.size];
  const contents = bytes.subarray(0, handle.size);
  if (type === 0 || !uncompress) return contents;
  if (type !== 1) return damage(`unknown compression type ${String(type)}`);
  try {
    return uncompressSnappy(contents);
  } catch (error) {
    return damage((error as Error).message);
  }
}

/** The key and value of every entry of a block (keys are prefix-compressed between restart points). */
function blockEntries(contents: Uint8Array): [Uint8Array, Uint8Array][] {
  if (contents.length < 4) throw new RangeError('a block too short for its restart count');
  const limit = contents.length - 4 - 4 * readUint32(contents, contents.length - 4);
  if (limit < 0) throw new RangeError('a block too short for its restart points');
  const reader = new ByteReader(contents, 0, limit);
  const entries: [Uint8Array, Uint8Array][] = [];
  let key = new Uint8Array(0);
  while (!reader.done) {
    const shared = reader.varint();
    const unshared = reader.varint();
    const valueLength = reader.varint();
    if (shared > key.length) throw new RangeError('an entry shares more of the key than there is');
    const next = new Uint8Array(shared + unshared);
    next.set(key.subarray(0, shared));
    next.set(reader.take(unshared), shared);
    key = next;
    entries.push([key, reader.take(valueLength)]);
  }
  return entries;
}
