import { describe, expect, it } from 'vitest';
import { runWordCount } from '../../examples/word-count/job.js';
import { expectedWordCounts } from '../../examples/word-count/reference.js';

describe('the word-count example', () => {
  it('counts every word sent over the socket exactly once', async () => {
    const lines: string[] = [];
    const result = await runWordCount({ times: 30, batchInterval: '20ms', log: (l) => lines.push(l) });
    expect(new Map(result.totals)).toEqual(expectedWordCounts(result.lines));
    expect(result.lines).toHaveLength(120);
    expect(lines.length).toBeGreaterThan(0);
  }, 30_000);
});
