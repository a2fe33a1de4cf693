import { seededRandom } from 'sluice/testing';

/** One card transaction of the fraud-detection demo. */
export interface Transaction {
  /** Unique, in arrival order (`t000042`). */
  readonly id: string;
  readonly card: string;
  readonly merchant: string;
  /** In the card's currency, two decimals. */
  readonly amount: number;
  /** ISO 3166 alpha-2 code. */
  readonly country: string;
  /** Event time, ms since the epoch. */
  readonly time: number;
}

/** Options of {@link generateTransactions}. */
export interface GenerateOptions {
  /** Cards (default 60). */
  readonly cards?: number;
  /** Hours of activity (default 48). */
  readonly hours?: number;
  /** Seed of the generator (default 7). */
  readonly seed?: number;
  /** Largest delay between a transaction's event time and its arrival, ms (default 90 s). */
  readonly maxDisorderMs?: number;
  /**
   * The share of transactions delivered twice, as a producer that retries does (default 0.02):
   * the same record again, arriving up to a minute after the first.
   */
  readonly duplicateRate?: number;
}

/** Where the generated data starts: 2024-01-01T00:00:00Z. */
export const START_TIME = Date.UTC(2024, 0, 1);

const COUNTRIES = ['FR', 'DE', 'ES', 'IT', 'NL', 'GB', 'US', 'PT', 'BE', 'CH'] as const;
const MERCHANTS = ['grocer', 'bakery', 'fuel', 'pharmacy', 'books', 'cinema', 'restaurant', 'taxi', 'hotel', 'electronics', 'clothes', 'online-shop'] as const;
const MINUTE = 60_000;

interface Draft {
  readonly card: string;
  readonly merchant: string;
  readonly amount: number;
  readonly country: string;
  readonly time: number;
  arrival: number;
}

/**
 * A deterministic stream of card transactions, in arrival order. Each card has a home country, a
 * typical amount and a usual pace (a transaction every 30 minutes to 4 hours, with quiet nights).
 * Planted fraud: bursts (6 to 10 transactions within a few minutes), outlier amounts (8 to 25
 * times the typical one), and country hops (a transaction abroad minutes after one at home).
 *
 * Some transactions are delivered twice (`duplicateRate`): the same record, same id, arrives again
 * up to a minute after the first.
 *
 * Arrival order has bounded disorder: a transaction arrives up to `maxDisorderMs` after its event
 * time, so the stream as a whole is out of event-time order; but per card, arrival order is
 * event-time order (a card's event times are handed out in the order its transactions arrive),
 * which is what the per-card state rules rely on (once the duplicates are dropped).
 */
export function generateTransactions(options: GenerateOptions = {}): Transaction[] {
  const cards = options.cards ?? 60;
  const hours = options.hours ?? 48;
  const disorder = options.maxDisorderMs ?? 90_000;
  const next = seededRandom(options.seed ?? 7);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const end = START_TIME + hours * 60 * MINUTE;
  const drafts: Draft[] = [];

  for (let c = 0; c < cards; c++) {
    const card = `card-${String(c).padStart(3, '0')}`;
    const home = pick(COUNTRIES);
    const typical = 10 + Math.round(next() * 150);
    const meanGap = (30 + next() * 210) * MINUTE;
    const favourites = [pick(MERCHANTS), pick(MERCHANTS), pick(MERCHANTS)];
    const normalAmount = (): number => Math.round(typical * (0.6 + next() * 0.8) * 100) / 100;
    const add = (time: number, amount: number, country: string, merchant: string = pick(favourites)): void => {
      if (time < end) drafts.push({ card, merchant, amount, country, time: Math.floor(time), arrival: 0 });
    };
    let time = START_TIME + next() * meanGap;
    while (time < end) {
      const hourOfDay = new Date(time).getUTCHours();
      if (hourOfDay >= 1 && hourOfDay < 6 && next() < 0.85) {
        time += (1 + next() * 4) * 60 * MINUTE; // mostly quiet at night
        continue;
      }
      const roll = next();
      if (roll < 0.015) {
        // A burst: a stolen card tested at many merchants in a few minutes.
        const n = 6 + Math.floor(next() * 5);
        for (let i = 0; i < n; i++) add(time + i * (15_000 + next() * 45_000), Math.round((1 + next() * 30) * 100) / 100, home, pick(MERCHANTS));
      } else if (roll < 0.03) {
        add(time, Math.round(typical * (8 + next() * 17) * 100) / 100, home, 'electronics'); // an outlier amount
      } else if (roll < 0.045) {
        // A country hop: at home, then abroad minutes later.
        add(time, normalAmount(), home);
        let abroad = pick(COUNTRIES);
        while (abroad === home) abroad = pick(COUNTRIES);
        add(time + (5 + next() * 40) * MINUTE, normalAmount(), abroad, pick(MERCHANTS));
        time += 45 * MINUTE;
      } else {
        // Mostly at home; now and then abroad on a trip long enough to be plausible.
        add(time, normalAmount(), next() < 0.03 ? pick(COUNTRIES) : home);
      }
      time += meanGap * (0.2 + next() * 1.6);
    }
  }

  // Arrivals: each transaction arrives up to `disorder` after it happened.
  for (const d of drafts) d.arrival = d.time + Math.floor(next() * (disorder + 1));
  drafts.sort((a, b) => a.arrival - b.arrival || a.time - b.time || a.card.localeCompare(b.card));
  // Per card, hand out the event times in arrival order, so that per card the k-th arrival is the
  // k-th in event time (the k-th smallest event time is still within `disorder` of the k-th arrival).
  const timesByCard = new Map<string, number[]>();
  for (const d of drafts) {
    const times = timesByCard.get(d.card) ?? [];
    times.push(d.time);
    timesByCard.set(d.card, times);
  }
  for (const times of timesByCard.values()) times.sort((a, b) => a - b);
  const taken = new Map<string, number>();
  const transactions = drafts.map((d, i): Transaction => {
    const k = taken.get(d.card) ?? 0;
    taken.set(d.card, k + 1);
    const time = timesByCard.get(d.card)?.[k] ?? d.time;
    return { id: `t${String(i).padStart(6, '0')}`, card: d.card, merchant: d.merchant, amount: d.amount, country: d.country, time };
  });
  return withRetries(transactions, drafts, options.duplicateRate ?? 0.02, next);
}

/**
 * The transactions with a share `rate` of them delivered again, as a producer that retries does:
 * the copy arrives up to a minute after the original (`drafts[i].arrival` is transaction i's).
 */
function withRetries(transactions: readonly Transaction[], drafts: readonly Draft[], rate: number, next: () => number): Transaction[] {
  const arrivals = transactions.map((t, i) => ({ t, arrival: (drafts[i] as Draft).arrival, copy: false }));
  for (const { t, arrival } of [...arrivals]) if (next() < rate) arrivals.push({ t, arrival: arrival + Math.floor(next() * 60_000), copy: true });
  // Stable: an original before its copy when they arrive in the same ms.
  return arrivals.sort((a, b) => a.arrival - b.arrival || Number(a.copy) - Number(b.copy)).map(({ t }) => t);
}

/** The settlement of an authorized transaction: the acquirer's confirmation, minutes later. */
export interface Settlement {
  /** The transaction it settles. */
  readonly id: string;
  readonly card: string;
  /** What was settled: the authorized amount, but now and then another. */
  readonly amount: number;
  /** Event time, ms since the epoch. */
  readonly time: number;
}

/**
 * The settlements of `transactions` (each id once, its first delivery), in arrival order: most
 * settle 1 to 8 minutes after the authorization, for the amount authorized; about 3% never
 * settle, and 2% of those that do settle for another amount (planted for the settlement rules).
 * Arrival disorder up to 90 s, as the transactions'.
 */
export function generateSettlements(transactions: readonly Transaction[], options: { readonly seed?: number } = {}): Settlement[] {
  const next = seededRandom((options.seed ?? 7) * 31 + 1);
  const seen = new Set<string>();
  const out: { s: Settlement; arrival: number }[] = [];
  for (const t of transactions) {
    if (seen.has(t.id)) continue;
    seen.add(t.id);
    if (next() < 0.03) continue;
    const time = t.time + Math.floor((1 + next() * 7) * MINUTE);
    const amount = next() < 0.02 ? Math.round(t.amount * (1.1 + next()) * 100) / 100 : t.amount;
    out.push({ s: { id: t.id, card: t.card, amount, time }, arrival: time + Math.floor(next() * 90_001) });
  }
  return out.sort((a, b) => a.arrival - b.arrival || a.s.id.localeCompare(b.s.id)).map(({ s }) => s);
}
