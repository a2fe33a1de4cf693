import { foreachBatch, keyBy, ManualClock, mapValues, StreamingContext, type BadRecord, type StreamingContextOptions } from 'sluice';
import type { Source, SourceRead } from 'sluice/extend';
import { mapWithState, stateSpec, updateStateByKey, type State } from 'sluice/state';
import { agg, eventTimeWindow, tumbling, withWatermark } from 'sluice/windows';

/** A payment, as the test job reads it. */
export interface Payment {
  readonly card: string;
  readonly amount: number;
  /** Event time, ms. */
  readonly t: number;
}

/**
 * A source of lines pushed by the test: each JSON line is a record, any other line a bad record.
 * Offsets are line counts, so it is replayable.
 */
export class LineSource<T> implements Source<T> {
  readonly kind = 'lines';
  readonly replayable = true;
  readonly #lines: string[] = [];
  #name = 'lines';

  push(...lines: string[]): void {
    this.#lines.push(...lines);
  }

  start(env: { readonly name: string }): void {
    this.#name = env.name;
  }

  initialOffset(): number {
    return 0;
  }

  latestOffset(start: unknown, maxRecords: number): number {
    return Math.min(this.#lines.length, (start as number) + maxRecords);
  }

  read(start: unknown, end: unknown): SourceRead<T> {
    const records: T[] = [];
    const badRecords: BadRecord[] = [];
    for (const [i, raw] of this.#lines.slice(start as number, end as number).entries()) {
      try {
        records.push(JSON.parse(raw) as T);
      } catch {
        badRecords.push({ source: this.#name, raw, reason: 'not JSON', location: `line ${(start as number) + i + 1}` });
      }
    }
    return { records, badRecords };
  }
}

/** What {@link fraudJob} gives the test. */
export interface FraudJob {
  readonly ctx: StreamingContext;
  readonly clock: ManualClock;
  readonly payments: LineSource<Payment>;
  readonly logins: string[][];
}

/**
 * A small fraud-detection job: payments (JSON lines, bad lines dead-lettered) with a watermark of
 * 1 s, per-card totals in `cardStats` (mapWithState), a per-second count per card in
 * `perSecond` (an event-time window that drops late payments), and logins per user in
 * `loginCounts` (updateStateByKey). `failOn` makes the card totals throw for that card.
 */
export function fraudJob(options: Partial<StreamingContextOptions> & { readonly failOn?: string } = {}): FraudJob {
  const clock = new ManualClock(100_000);
  const { failOn, ...contextOptions } = options;
  const ctx = new StreamingContext({ batchInterval: '1s', clock, ...contextOptions });
  const payments = new LineSource<Payment>();
  const logins: string[][] = [];
  const paid = ctx.source<Payment>(payments, { name: 'payments', badRecords: 'deadLetter' });
  const totals = stateSpec((card: string, amount: number | undefined, state: State<number>): number => {
    if (card === failOn) throw new Error(`card ${card} is blocked`);
    const total = (state.getOption() ?? 0) + (amount ?? 0);
    state.update(total);
    return total;
  });
  const watermarked = paid.pipe(withWatermark((p: Payment) => p.t, '1s', { name: 'paymentTime' }));
  watermarked.pipe(keyBy((p: Payment) => p.card), mapValues((p: Payment) => p.amount), mapWithState(totals.name('cardStats')), foreachBatch(() => undefined));
  watermarked.pipe(keyBy((p: Payment) => p.card), eventTimeWindow(tumbling('1s'), agg.count(), { name: 'perSecond' }), foreachBatch(() => undefined));
  paid.deadLetters.pipe(foreachBatch(() => undefined));
  ctx
    .queueStream(logins, { name: 'logins' })
    .pipe(
      keyBy((user: string) => user),
      updateStateByKey((seen: string[], count: number | undefined) => (count ?? 0) + seen.length, { name: 'loginCounts' }),
      foreachBatch(() => undefined),
    );
  return { ctx, clock, payments, logins };
}
