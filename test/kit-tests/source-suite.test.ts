import { describe, expect, it } from 'vitest';
import { QueueSource } from 'sluice';
import type { Offset, SourceRead } from 'sluice/extend';
import { sourceSuite, type SourceFixture } from '../kit/source-suite.js';

// The suite over every built-in source, which must pass it, is test/core/sources/source-conformance.test.ts.

/** Pushes `n` records made by `make(index)`, indexes counting on from earlier pushes. */
function pushing<T>(source: QueueSource<T>, make: (index: number) => T): (n: number) => void {
  let next = 0;
  return (n) => {
    source.push(Array.from({ length: n }, () => make(next++)));
  };
}

/** A queue source that ignores maxRecords. */
class GreedySource extends QueueSource<number> {
  override latestOffset(start: Offset): Offset {
    return super.latestOffset(start, Number.POSITIVE_INFINITY);
  }
}

/** A queue source whose reads are not stable: it hands out its records' current values. */
class MutatingSource extends QueueSource<{ n: number }> {
  #reads = 0;
  override read(start: Offset, end: Offset): SourceRead<{ n: number }> {
    return { records: super.read(start, end).records.map((r) => ({ n: r.n + this.#reads++ })) };
  }
}

describe('sourceSuite catches broken sources', () => {
  const casesOf = <T>(make: () => SourceFixture<T>): Map<string, () => Promise<void>> => {
    const cases = new Map<string, () => Promise<void>>();
    sourceSuite({ test: (name, fn) => cases.set(name, fn), factory: make });
    return cases;
  };
  const failing = async (cases: Map<string, () => Promise<void>>): Promise<string[]> => {
    const out: string[] = [];
    for (const [name, fn] of cases) await fn().catch(() => out.push(name));
    return out;
  };

  it('a source that ignores maxRecords fails the range cases', async () => {
    const cases = casesOf(() => {
      const source = new GreedySource();
      return { source, produce: pushing(source, (i) => i) };
    });
    expect(await failing(cases)).toEqual([
      'Source: consecutive ranges hold at most maxRecords each, and together the records of the whole range',
      'Source: maxRecords 1 gives one record per range',
    ]);
  });

  it('a source whose reads change fails the read-twice case', async () => {
    const cases = casesOf(() => {
      const source = new MutatingSource();
      return { source, produce: pushing(source, (i) => ({ n: i })) };
    });
    expect(await failing(cases)).toContain('Source: reading the same range twice gives the same records');
  });
});
