import type { Settlement, Transaction } from './generate.js';
import {
  ANOMALY_K,
  ANOMALY_MIN_HISTORY,
  HISTORY_RESET_MS,
  SETTLE_WITHIN_MS,
  TRAVEL_MAX_GAP_MS,
  VELOCITY_MAX,
  VELOCITY_SLIDE_MS,
  VELOCITY_WINDOW_MS,
  type Rule,
} from './rules.js';

/*
 * The three rules as plain functions over the generated records, without Sluice: the expected
 * result the fraud-detection test compares the streaming job with. Only the thresholds are shared
 * with rules.ts.
 *
 * How the definitions line up with the streaming semantics:
 * - A transaction delivered twice counts once: the first delivery of each id is kept (the
 *   generator delivers a copy at most a minute after the first, well within the job's bound).
 * - Per card, the records are taken in event-time order (the generator makes a card's arrival
 *   order its event-time order, and mapWithState sees a key's records in arrival order).
 * - Velocity windows are [s, s + 10 min) for every s a multiple of one minute. The stream emits a
 *   window once the watermark reaches its end; the watermark never passes the event time of a
 *   record still to arrive (the delay exceeds the disorder), so no record is late and each window
 *   is complete when emitted. The job runs bounded: its final batch's watermark is past every
 *   event time, so every window is emitted.
 * - The state TTL never changes a result (see STATE_TTL in rules.ts), so it does not appear here.
 * - Settlements: a transaction's settlement is the one with its id (and card) whose time is in
 *   [t, t + SETTLE_WITHIN_MS]. The join emits an unmatched transaction once the watermark passes
 *   t + SETTLE_WITHIN_MS, and no settlement arrives behind the watermark (the delay exceeds the
 *   disorder), so a settlement in the interval always meets its transaction.
 */

/** The key an alert is compared by. */
export interface AlertKey {
  readonly rule: Rule;
  readonly card: string;
  readonly ref: string;
}

/** Every alert the rules raise on `transactions` (and, given, their `settlements`), as keys. */
export function referenceAlerts(transactions: readonly Transaction[], settlements?: readonly Settlement[]): AlertKey[] {
  const byCard = new Map<string, Transaction[]>();
  const seen = new Set<string>();
  const unique: Transaction[] = [];
  for (const t of transactions) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    unique.push(t);
    const list = byCard.get(t.card) ?? [];
    list.push(t);
    byCard.set(t.card, list);
  }
  const out: AlertKey[] = [];
  for (const [card, list] of byCard) {
    const ordered = [...list].sort((a, b) => a.time - b.time); // stable: ties keep arrival order
    out.push(...velocity(card, ordered), ...amountAnomalies(card, ordered), ...impossibleTravel(card, ordered));
  }
  if (settlements !== undefined) out.push(...settlementAlerts(unique, settlements));
  return out;
}

/** Windows of 10 minutes (every minute) holding more than VELOCITY_MAX of the card's transactions. */
function velocity(card: string, ordered: readonly Transaction[]): AlertKey[] {
  const counts = new Map<number, number>();
  for (const t of ordered) {
    const lastStart = Math.floor(t.time / VELOCITY_SLIDE_MS) * VELOCITY_SLIDE_MS;
    for (let start = lastStart; start > t.time - VELOCITY_WINDOW_MS; start -= VELOCITY_SLIDE_MS) counts.set(start, (counts.get(start) ?? 0) + 1);
  }
  return [...counts]
    .filter(([, n]) => n > VELOCITY_MAX)
    .map(([start]) => ({ rule: 'velocity' as const, card, ref: new Date(start).toISOString() }));
}

/** Amounts above mean + k·std of the card's earlier (unflagged) amounts, history reset after a long idle gap. */
function amountAnomalies(card: string, ordered: readonly Transaction[]): AlertKey[] {
  const out: AlertKey[] = [];
  let history: number[] = [];
  let last = Number.NEGATIVE_INFINITY;
  for (const t of ordered) {
    if (t.time - last > HISTORY_RESET_MS) history = [];
    last = t.time;
    if (history.length >= ANOMALY_MIN_HISTORY) {
      // Welford's running mean and variance over the history, in order (the same arithmetic as a running update).
      let n = 0;
      let mean = 0;
      let m2 = 0;
      for (const x of history) {
        n++;
        const delta = x - mean;
        mean += delta / n;
        m2 += delta * (x - mean);
      }
      if (t.amount > mean + ANOMALY_K * Math.sqrt(m2 / (n - 1))) {
        out.push({ rule: 'amount', card, ref: t.id });
        continue;
      }
    }
    history.push(t.amount);
  }
  return out;
}

/** Two consecutive transactions of the card in different countries less than TRAVEL_MAX_GAP_MS apart. */
function impossibleTravel(card: string, ordered: readonly Transaction[]): AlertKey[] {
  const out: AlertKey[] = [];
  for (let i = 1; i < ordered.length; i++) {
    const previous = ordered[i - 1];
    const t = ordered[i];
    if (previous === undefined || t === undefined) continue;
    if (previous.country !== t.country && t.time - previous.time < TRAVEL_MAX_GAP_MS) out.push({ rule: 'travel', card, ref: t.id });
  }
  return out;
}

/** A key as one string, for comparing sets of alerts. */
export const alertKey = (a: AlertKey): string => `${a.card}|${a.rule}|${a.ref}`;

/** Transactions without a settlement within SETTLE_WITHIN_MS (unsettled), or settled for another amount (mismatch). */
function settlementAlerts(transactions: readonly Transaction[], settlements: readonly Settlement[]): AlertKey[] {
  const byId = new Map<string, Settlement[]>();
  for (const s of settlements) byId.set(s.id, [...(byId.get(s.id) ?? []), s]);
  const out: AlertKey[] = [];
  for (const t of transactions) {
    const within = (byId.get(t.id) ?? []).filter((s) => s.card === t.card && s.time >= t.time && s.time <= t.time + SETTLE_WITHIN_MS);
    if (within.length === 0) out.push({ rule: 'unsettled', card: t.card, ref: t.id });
    for (const s of within) if (s.amount !== t.amount) out.push({ rule: 'mismatch', card: t.card, ref: t.id });
  }
  return out;
}
