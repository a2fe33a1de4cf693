import { foreachBatch, keyBy, ManualClock, StreamingContext, type DStream, type Pair } from 'sluice';
import type { StateBackend } from 'sluice/extend';
import { withWatermark } from 'sluice/windows';

/** A test event: key, event time, and an id to tell rows apart. */
export interface Ev {
  readonly k: string;
  readonly t: number;
  readonly id: string;
}

/** An event; its id is `<key><time>` unless given. */
export const ev = (k: string, t: number, id = `${k}${t}`): Ev => ({ k, t, id });

/** What one batch of a join run gave. */
export interface JoinBatch<O> {
  readonly rows: O[];
  /** The join's `stateRows` and late records dropped. */
  readonly stateRows: number | undefined;
  readonly dropped: number;
  /** The batch's global watermark. */
  readonly watermark: number | undefined;
}

/** Options of {@link runJoin}. */
export interface RunJoinOptions {
  /** Watermark delay of each side (default 0). */
  readonly delay?: readonly [number, number];
  /** Idle timeout of each side (default none). */
  readonly idleTimeout?: readonly [number | undefined, number | undefined];
  /** Batches to run (default: the longer input). */
  readonly numBatches?: number;
  readonly stateBackend?: StateBackend;
  /** Partitions of each input batch (default 2). */
  readonly parallelism?: number;
}

/**
 * Runs a join of two keyed event streams on a ManualClock, one input batch per batch interval:
 * each side `withWatermark((e) => e.t, delay)` then `keyBy((e) => e.k)`; `join` builds the joined
 * stream, whose operator's progress is read under `operator`.
 */
export async function runJoin<O>(
  left: readonly (readonly Ev[])[],
  right: readonly (readonly Ev[])[],
  join: (left: DStream<Pair<string, Ev>>, right: DStream<Pair<string, Ev>>) => DStream<O>,
  operator: string,
  options: RunJoinOptions = {},
): Promise<JoinBatch<O>[]> {
  const clock = new ManualClock();
  const ctx = new StreamingContext({ batchInterval: 1000, clock, defaultParallelism: options.parallelism ?? 2, ...(options.stateBackend === undefined ? {} : { stateBackend: options.stateBackend }) });
  const side = (batches: readonly (readonly Ev[])[], i: 0 | 1): DStream<Pair<string, Ev>> => {
    const idleTimeout = options.idleTimeout?.[i];
    return ctx
      .queueStream(batches.map((b) => [...b]), { name: i === 0 ? 'left' : 'right' })
      .pipe(withWatermark((e: Ev) => e.t, options.delay?.[i] ?? 0, idleTimeout === undefined ? {} : { idleTimeout }), keyBy((e: Ev) => e.k));
  };
  const rows: O[][] = [];
  const out: JoinBatch<O>[] = [];
  join(side(left, 0), side(right, 1)).pipe(foreachBatch((records: readonly O[]) => void rows.push([...records])));
  ctx.addListener((e) => {
    if (e.type !== 'batchCompleted') return;
    const progress = e.progress.operators.find((o) => o.operator === operator);
    out.push({ rows: rows.shift() ?? [], stateRows: progress?.stateRows, dropped: progress?.lateRecordsDropped ?? 0, watermark: e.progress.watermark });
  });
  let failure: Error | undefined;
  ctx.awaitTermination().catch((error: unknown) => (failure = error as Error));
  await ctx.start();
  await clock.advance(1000 * (options.numBatches ?? Math.max(left.length, right.length)));
  await ctx.stop();
  if (failure !== undefined) throw failure;
  return out;
}

/** The ids of joined rows `[k, [l, r]]` as `l.id+r.id` (`-` for null), or of semi rows `[k, l]`, per batch. */
export function ids(batches: readonly JoinBatch<Pair<string, unknown>>[]): string[][] {
  return batches.map((b) =>
    b.rows.map(([, value]) => {
      if (Array.isArray(value)) {
        const [l, r] = value as [Ev | null, Ev | null];
        return `${l?.id ?? '-'}+${r?.id ?? '-'}`;
      }
      return (value as Ev).id;
    }),
  );
}
