import { filter, keyBy, map, union, type DStream } from 'sluice';
import { mapWithState, stateSpec, type State } from 'sluice/state';
import { agg, dropDuplicates, eventTimeWindow, intervalJoin, sliding, withWatermark } from 'sluice/windows';
import type { Settlement, Transaction } from './generate.js';

/*
 * The three fraud rules, as Sluice operators. reference.ts states the same rules as plain
 * functions over the records; the constants below are shared so both use the same thresholds.
 */

/** Velocity: alert when a card has more than this many transactions in a 10-minute window. */
export const VELOCITY_MAX = 5;
/** Velocity windows: 10 minutes long, one starting every minute (aligned on the epoch). */
export const VELOCITY_WINDOW_MS = 10 * 60_000;
export const VELOCITY_SLIDE_MS = 60_000;
/** How late a transaction may arrive; must be at least the generator's disorder (90 s). */
export const WATERMARK_DELAY_MS = 3 * 60_000;

/** Amount anomaly: alert when amount > mean + ANOMALY_K * standard deviation of the card's history... */
export const ANOMALY_K = 4;
/** ... once the history holds at least this many transactions. */
export const ANOMALY_MIN_HISTORY = 5;
/** A card idle (in event time) for longer than this starts a fresh history. */
export const HISTORY_RESET_MS = 6 * 3_600_000;
/**
 * The state TTL (on the watermark). It only bounds state: an entry expires at least
 * STATE_TTL - (a batch's event-time span + disorder + watermark delay) after the card's last
 * transaction, well over HISTORY_RESET_MS on this data, so an expired history is one that the
 * reset rule would have dropped anyway (and a last country too old for impossible travel).
 */
export const STATE_TTL = '24h';

/**
 * Duplicates: a transaction id seen again within this much event time of its first delivery is
 * dropped before any rule counts it (a producer's retry must not look like a burst).
 */
export const DEDUP_WITHIN = '10m';

/**
 * Settlement: a transaction must settle, for the amount authorized, within this much event time
 * of its authorization; the job joins each authorization with its settlement in that interval.
 */
export const SETTLE_WITHIN_MS = 10 * 60_000;

/** Impossible travel: alert when two transactions of a card are in different countries less than this apart. */
export const TRAVEL_MAX_GAP_MS = 60 * 60_000;

export type Rule = 'velocity' | 'amount' | 'travel' | 'unsettled' | 'mismatch';

/** One alert. `ref` is the transaction id (amount, travel) or the window start, ISO (velocity). */
export interface Alert {
  readonly rule: Rule;
  readonly card: string;
  readonly ref: string;
  /** The event time of the transaction, or the end of the window. */
  readonly time: number;
  readonly reason: string;
}

/** A card's running amount statistics (Welford): count, mean, sum of squared deviations. */
export interface AmountStats {
  readonly n: number;
  readonly mean: number;
  readonly m2: number;
  /** Event time of the card's last transaction. */
  readonly last: number;
}

/** A card's last seen country. */
export interface LastSeen {
  readonly country: string;
  readonly time: number;
}

const minutes = (ms: number): string => (ms / 60_000).toFixed(1);

/** The amount-anomaly step for one transaction: the alert (if any) and the card's next statistics. */
export function amountStep(previous: AmountStats | undefined, t: Transaction): { alert: Alert | undefined; next: AmountStats } {
  const history = previous !== undefined && t.time - previous.last <= HISTORY_RESET_MS ? previous : { n: 0, mean: 0, m2: 0, last: t.time };
  if (history.n >= ANOMALY_MIN_HISTORY) {
    const std = Math.sqrt(history.m2 / (history.n - 1));
    if (t.amount > history.mean + ANOMALY_K * std) {
      // A flagged amount is not learnt from, so one outlier does not hide the next.
      const reason = `amount ${t.amount.toFixed(2)} > mean ${history.mean.toFixed(2)} + ${ANOMALY_K}·std ${std.toFixed(2)} (${history.n} transactions)`;
      return { alert: { rule: 'amount', card: t.card, ref: t.id, time: t.time, reason }, next: { ...history, last: t.time } };
    }
  }
  const n = history.n + 1;
  const delta = t.amount - history.mean;
  const mean = history.mean + delta / n;
  return { alert: undefined, next: { n, mean, m2: history.m2 + delta * (t.amount - mean), last: t.time } };
}

/** The impossible-travel step for one transaction. */
export function travelAlert(previous: LastSeen | undefined, t: Transaction): Alert | undefined {
  if (previous === undefined || previous.country === t.country || t.time - previous.time >= TRAVEL_MAX_GAP_MS) return undefined;
  return { rule: 'travel', card: t.card, ref: t.id, time: t.time, reason: `${previous.country} → ${t.country} in ${minutes(t.time - previous.time)} min` };
}

/**
 * The settlement alert of an authorization and what the interval join found for it: `null` (no
 * settlement within SETTLE_WITHIN_MS) is `unsettled`, another amount a `mismatch`.
 */
export function settlementAlert(t: Transaction, s: Settlement | null): Alert | undefined {
  if (s === null) return { rule: 'unsettled', card: t.card, ref: t.id, time: t.time, reason: `not settled within ${minutes(SETTLE_WITHIN_MS)} min of ${t.amount.toFixed(2)} authorized` };
  if (s.amount !== t.amount) return { rule: 'mismatch', card: t.card, ref: t.id, time: s.time, reason: `settled ${s.amount.toFixed(2)}, authorized ${t.amount.toFixed(2)}` };
  return undefined;
}

/** The velocity alert of a window, when its count is over the limit. */
export function velocityAlert(card: string, start: number, end: number, n: number): Alert | undefined {
  if (n <= VELOCITY_MAX) return undefined;
  return { rule: 'velocity', card, ref: new Date(start).toISOString(), time: end, reason: `${n} transactions in ${minutes(end - start)} min from ${new Date(start).toISOString()}` };
}

/**
 * The rules over a stream of transactions, as one stream of alerts: duplicate deliveries (the
 * same transaction id) are dropped first. Velocity windows come out once each, when the watermark
 * passes their end; amount and travel alerts come out in the batch of their transaction. With
 * `settlements`, each transaction is joined with its settlement (an event-time interval join,
 * left outer): an `unsettled` alert once the watermark shows none can come any more, a
 * `mismatch` alert when the amounts differ.
 */
export function fraudAlerts(transactions: DStream<Transaction>, settlements?: DStream<Settlement>): DStream<Alert> {
  const unique = transactions.pipe(
    withWatermark((t) => t.time, WATERMARK_DELAY_MS),
    dropDuplicates((t) => t.id, { within: DEDUP_WITHIN, name: 'dedup' }),
  );
  const byCard = unique.pipe(keyBy((t) => t.card));

  const velocity = byCard.pipe(
    eventTimeWindow(sliding(VELOCITY_WINDOW_MS, VELOCITY_SLIDE_MS), agg.count(), { name: 'velocity' }),
    filter((w) => w.value > VELOCITY_MAX),
    map((w): Alert => velocityAlert(w.key, w.window.start, w.window.end, w.value) ?? unreachable()),
  );

  const amount = byCard.pipe(
    mapWithState(
      stateSpec((_card: string, t: Transaction | undefined, state: State<AmountStats>) => {
        if (t === undefined) return undefined;
        const { alert, next } = amountStep(state.getOption(), t);
        state.update(next);
        return alert;
      })
        .ttl(STATE_TTL, { timeDomain: 'event' })
        .name('amount-stats'),
    ),
    filter((a): a is Alert => a !== undefined),
  );

  const travel = byCard.pipe(
    mapWithState(
      stateSpec((_card: string, t: Transaction | undefined, state: State<LastSeen>) => {
        if (t === undefined) return undefined;
        const alert = travelAlert(state.getOption(), t);
        state.update({ country: t.country, time: t.time });
        return alert;
      })
        .ttl(STATE_TTL, { timeDomain: 'event' })
        .name('last-country'),
    ),
    filter((a): a is Alert => a !== undefined),
  );

  if (settlements === undefined) return velocity.pipe(union<Alert>(amount, travel));
  const settled = unique.pipe(
    keyBy((t) => `${t.card}/${t.id}`),
    intervalJoin(
      settlements.pipe(
        withWatermark((s) => s.time, WATERMARK_DELAY_MS),
        keyBy((s) => `${s.card}/${s.id}`),
      ),
      { lowerBound: 0, upperBound: SETTLE_WITHIN_MS },
      { type: 'leftOuter', name: 'settlement' },
    ),
    map(([, [t, s]]) => settlementAlert(t, s)),
    filter((a): a is Alert => a !== undefined),
  );
  return velocity.pipe(union<Alert>(amount, travel, settled));
}

function unreachable(): never {
  throw new Error('unreachable: the window was filtered on its count');
}
