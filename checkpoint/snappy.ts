/*
 * Snappy decompression (the raw format LevelDB compresses its table blocks with): a varint of
 * the uncompressed length, then elements, each a literal run or a copy of earlier output. Only
 * what reading a table's index block needs; a malformed input throws a RangeError.
 */

/** The bytes `compressed` holds (raw Snappy, no framing). @throws RangeError when it is malformed. */
export function uncompressSnappy(compressed: Uint8Array): Uint8Array {
  let at = 0;
  const byte = (): number => {
    if (at >= compressed.length) throw new RangeError('snappy: the input ends early');
    return compressed[at++] as number;
  };
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (shift > 28) throw new RangeError('snappy: the length is too long');
    const b = byte();
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
  }
  const out = new Uint8Array(length);
  let o = 0;
  const littleEndian = (n: number): number => {
    let value = 0;
    for (let i = 0; i < n; i++) value += byte() * 2 ** (8 * i);
    return value;
  };
  while (at < compressed.length) {
    const tag = byte();
    const kind = tag & 3;
    if (kind === 0) {
      let run = tag >>> 2;
      if (run >= 60) run = littleEndian(run - 59);
      run += 1;
      if (at + run > compressed.length || o + run > length) throw new RangeError('snappy: a literal runs past the end');
      out.set(compressed.subarray(at, at + run), o);
      at += run;
      o += run;
      continue;
    }
    let run: number;
    let offset: number;
    if (kind === 1) {
      run = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | byte();
    } else {
      run = (tag >>> 2) + 1;
      offset = littleEndian(kind === 2 ? 2 : 4);
    }
    if (offset === 0 || offset > o || o + run > length) throw new RangeError('snappy: a copy reaches outside the output');
    for (let i = 0; i < run; i++, o++) out[o] = out[o - offset] as number;
  }
  if (o !== length) throw new RangeError(`snappy: ${o} bytes of ${length}`);
  return out;
}
