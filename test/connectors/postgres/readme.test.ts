import { expect, it } from 'vitest';
import { ManualClock, StreamingContext } from 'sluice';
import { postgresSink } from 'sluice/postgres';
import { readmeSnippet } from '../../support/readme-snippet.js';
import { describeWith, POSTGRES } from '../../support/services.js';
import { rowsOf, tableName } from './pg-harness.js';

await describeWith(POSTGRES, "README's PostgreSQL snippet", () => {
  it('runs as written, on a stream of [word, total] pairs (into a table of its own)', async () => {
    const table = tableName('readme');
    const code = await readmeSnippet('## Connectors', [["'word_totals'", `'${table}'`]]);
    expect(code).toContain(table);
    const clock = new ManualClock();
    const ctx = new StreamingContext({ batchInterval: 1000, clock });
    const totals = ctx.queueStream<[string, number]>([[['fox', 1], ['dog', 2]], [['fox', 3]]]);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's own code, run as written.
    const run = new Function('totals', 'postgresSink', code) as (stream: typeof totals, sink: typeof postgresSink) => void;
    run(totals, postgresSink);
    await ctx.start();
    await clock.advance(2000);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(await rowsOf(table, 'word')).toEqual([
      { word: 'dog', total: '2' },
      { word: 'fox', total: '3' },
    ]);
  });
});
