import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHUNK_ROWS, decodeMarker, decodeVersion, encodeMarker, encodeRows, normalizeRows } from '../../../connectors/postgres/table-rows.js';

/*
 * The laws of how a table version is logged, on rows of the values pg gives (numbers, strings,
 * booleans, null, Date, bytea Buffers, bigints from a custom parser, parsed JSON, arrays), no
 * server needed: a version reads back equal, its hash is a function of its rows, and a change of
 * one value changes it.
 */

const value = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt(),
  fc.date({ noInvalidDate: true }),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)),
  fc.array(fc.oneof(fc.integer(), fc.string()), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(fc.integer(), fc.string(), fc.constant(null)), { maxKeys: 3 }),
);
const row = fc.record({ a: value, b: value, c: fc.string() });
/** Rows as pg gives them: fresh objects each time. */
const rowsArb = fc.oneof(fc.array(row, { maxLength: 20 }), fc.array(row, { minLength: CHUNK_ROWS - 2, maxLength: CHUNK_ROWS * 2 + 3 }));

function fresh(rows: readonly Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => ({ ...r }));
}

describe('a table version in the write-ahead log', () => {
  it('reads back equal to the rows loaded (bytea as Uint8Array), across chunk boundaries', () => {
    fc.assert(
      fc.property(rowsArb, (rows) => {
        const loaded = normalizeRows(fresh(rows));
        const { chunks, hash } = encodeRows(loaded);
        expect(chunks).toHaveLength(Math.ceil(rows.length / CHUNK_ROWS));
        const back = decodeVersion(chunks, { version: 1, rows: rows.length, hash });
        expect(back).toEqual(loaded);
        for (const [i, r] of back.entries()) for (const column of ['a', 'b'] as const) {
          const original = (rows[i] as Record<string, unknown>)[column];
          if (Buffer.isBuffer(original)) expect(Object.getPrototypeOf((r as Record<string, unknown>)[column])).toBe(Uint8Array.prototype);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('has a hash that is a function of the rows, and changes with any one value', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 20 }), fc.nat(), fc.string({ minLength: 1 }), (rows, at, suffix) => {
        const hash = encodeRows(normalizeRows(fresh(rows))).hash;
        expect(encodeRows(normalizeRows(fresh(rows))).hash).toBe(hash);
        const changed = fresh(rows);
        const target = changed[at % changed.length] as Record<string, unknown>;
        target.c = `${String(target.c)}${suffix}`;
        expect(encodeRows(normalizeRows(changed)).hash).not.toBe(hash);
      }),
    );
  });

  it('refuses chunks that are not those the plan names', () => {
    const { chunks, hash } = encodeRows([{ a: 1 }, { a: 2 }]);
    expect(() => decodeVersion(chunks, { version: 1, rows: 3, hash })).toThrow(/hold 2 rows .* names 3 rows/);
    expect(() => decodeVersion(encodeRows([{ a: 1 }, { a: 3 }]).chunks, { version: 1, rows: 2, hash })).toThrow(/with hash/);
  });

  it('keeps markers exactly, and refuses entries that are not markers', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.string(), fc.nat(), fc.nat(), fc.option(fc.integer()), fc.nat(), fc.string(), (version, rows, hash, from, length, origin, epoch, query) => {
        const marker = { version, rows, hash, log: [from, from + length] as const, origin, epoch, query };
        expect(decodeMarker(encodeMarker(marker))).toEqual(marker);
      }),
    );
    expect(() => decodeMarker('{"table":1}')).toThrow(/not a table version's marker/);
  });
});
