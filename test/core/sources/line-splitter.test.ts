import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../core/sources/line-splitter.js';

/** Splits `text`, encoded, fed 3 bytes at a time, with `maxLineLength` 6. */
function split(encoding: BufferEncoding, text: string): [string, number][] {
  const lines: [string, number][] = [];
  const emit = (line: string, bytes: number): void => void lines.push([line, bytes]);
  const splitter = new LineSplitter(encoding, 6);
  const bytes = Buffer.from(text, encoding);
  for (let i = 0; i < bytes.length; i += 3) splitter.write(bytes.subarray(i, i + 3), emit);
  splitter.end(emit);
  return lines;
}

describe('LineSplitter', () => {
  it('counts each line in bytes of its encoding, across chunks, and turns a longer one into a placeholder', () => {
    expect(split('utf8', 'ab\r\néé\néééé\nz')).toEqual([['ab', 3], ['éé', 4], ['\n8\n6\néééé', 13], ['z', 1]]);
    expect(split('latin1', 'ab\r\néé\nabcdefg\nz')).toEqual([['ab', 3], ['éé', 2], ['\n7\n6\nabcdefg', 12], ['z', 1]]);
    expect(split('utf16le', 'ab\r\néé\nabcd\nz')).toEqual([['ab', 6], ['éé', 4], ['\n8\n6\nabcd', 9], ['z', 2]]);
  });
});
