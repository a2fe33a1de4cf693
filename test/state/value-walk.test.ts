import { describe, expect, it, vi } from 'vitest';
import type * as ValueWalk from '../../state/value-walk.js';

// The full walk, spied on: the codec must leave plain data to its fast path.
vi.mock('../../state/value-walk.js', async (importOriginal) => {
  const original = await importOriginal<typeof ValueWalk>();
  return { ...original, walkStateValue: vi.fn(original.walkStateValue) };
});

const { checkStateValue, decodeValue, encodeValue } = await import('../../state/value-codec.js');
const { walkStateValue } = await import('../../state/value-walk.js');
const fullWalks = vi.mocked(walkStateValue);

/** A mapWithState entry as the store commits it: the user's value, two batch times and a watermark. */
const entry = (i: number): unknown => [{ count: i, sum: i * 7.5, name: `user-${i}`, tags: ['a', 'b'], seen: new Date(i), raw: new Uint8Array([i]) }, 1000 * i, 1000 * i, null];

describe('the state value walk on the commit path', () => {
  it('is not done again for plain data: encoding, checking and decoding a state entry take the fast path', () => {
    const values = [entry(1), entry(2), { count: 1, sum: 2 }, 42, 'text', true, null, undefined, 10n, [], {}];
    fullWalks.mockClear();
    for (const value of values) {
      checkStateValue(value);
      expect(decodeValue(encodeValue(value))).toEqual(value);
    }
    expect(fullWalks).not.toHaveBeenCalled();
  });

  it('still walks what msgpack would not keep exactly, or cannot keep, and names the bad part', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic['self'] = { back: cyclic };
    const deep: unknown[] = [];
    let inner = deep;
    for (let i = 0; i < 40; i++) inner.push((inner = []));
    const wrapped = [-0, 'a\ud800', { '\udc00': 1 }, new Map([[1, 2]]), new Set([1]), Object.create(null) as object, JSON.parse('{"__proto__": 1}') as object, { constructor: 1 }, deep];
    for (const value of wrapped) {
      fullWalks.mockClear();
      expect(decodeValue(encodeValue([{ count: 1 }, value]))).toEqual([{ count: 1 }, value]);
      expect(fullWalks).toHaveBeenCalled();
    }
    expect(() => encodeValue([{ ok: 1 }, { f: () => 1 }])).toThrow(/^state value\[1\]\.f: a function cannot be kept as state/);
    expect(() => { checkStateValue({ list: [1, 2, new Int8Array(1)] }); }).toThrow(/^state value\.list\[2\]: an Int8Array cannot be kept as state/);
    expect(() => encodeValue(cyclic)).toThrow(/^state value\.self\.back: the value contains itself \(a cycle\)/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => encodeValue({ list: [1, , 3] })).toThrow(/^state value\.list\[1\]: a sparse array cannot be kept/);
  });
});
