import { expect, it } from 'vitest';
import { keyBy, map, type DStream } from 'sluice';
import { joinTable, postgresTable } from 'sluice/postgres';
import { readmeSnippet } from '../../support/readme-snippet.js';
import { describeWith, POSTGRES } from '../../support/services.js';
import { collect, ratesTable, tableContext } from './table-harness.js';

interface Payment {
  readonly card: string;
  readonly currency: string;
  readonly amount: number;
}

await describeWith(POSTGRES, "README's postgresTable snippet", () => {
  it('runs as written, joining payments with a rates table of its own', async () => {
    const { table } = await ratesTable({ chf: 1.5, usd: 0.5 });
    const code = await readmeSnippet('- **PostgreSQL tables**', [["FROM fx_rates", `FROM "${table}"`]]);
    const { ctx, clock } = tableContext();
    const payments = ctx.queueStream<Payment>([[{ card: 'a', currency: 'chf', amount: 10 }, { card: 'b', currency: 'jpy', amount: 1 }, { card: 'c', currency: 'usd', amount: 4 }]]);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the README's own code, run as written.
    const run = new Function('ctx', 'payments', 'postgresTable', 'joinTable', 'keyBy', 'map', `${code}\nreturn inEuros;`) as (...args: unknown[]) => DStream<{ card: string; euros: number }>;
    const out = collect(run(ctx, payments, postgresTable, joinTable, keyBy, map));
    await ctx.start();
    await clock.advance(1000);
    await ctx.stop();
    expect(ctx.failure).toBeUndefined();
    expect(out.get(0)).toEqual([{ card: 'a', euros: 15 }, { card: 'c', euros: 2 }]);
  });
});
